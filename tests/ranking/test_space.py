"""The candidate search space: the serving build plus the articles embedded since."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.embedding.encoder import normalize_rows
from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.ranking import formulas
from recommender.ranking.lexical import LexicalModel
from recommender.ranking.space import SearchSpace
from recommender.storage.schema import Article


def test_an_article_published_after_the_build_is_smoothed_too(
        demo: tuple[Recommender, sessionmaker[Session]]) -> None:
    rec, factory = demo
    full_build(rec)
    build = rec.builds.get()
    assert build is not None
    with factory() as session:
        source = session.scalars(select(Article).order_by(Article.id)).first()
        assert source is not None
        article = Article(external_id="new-1", url="https://meridian.example/new-1",
                          title="After the summit: " + source.title, dek=source.dek,
                          body=source.body + "\n\nA closing paragraph on what comes next.",
                          authors=source.authors, tags=source.tags, section=source.section,
                          content_type="news", status="published",
                          published_at=source.published_at, content_hash="x", word_count=300)
        session.add(article)
        session.commit()
        assert rec.refresh(session, [article.id]).embedded == 1
        space = rec._space(session)
        assert article.id in space._delta_pos
        smoothed = space.vector(article.id)
        raw = space.delta_raw[space._delta_pos[article.id]]
        assert smoothed is not None and not np.allclose(smoothed, raw)
        assert abs(float(np.linalg.norm(smoothed)) - 1.0) < 1e-5
        # its nearest neighbour is the article it continues, and the smoothing pulled it there
        source_vec = space.vector(source.id)
        assert source_vec is not None
        assert float(smoothed @ source_vec) > float(raw @ source_vec) - 1e-6


TEXTS = ["Wheat exports rise in India as the monsoon returns",
         "Wheat exports rise in India as the monsoon returns",
         "Wheat exports rise in India as the monsoon returns",
         "Copper mines close in Chile after the strike"]


def _delta_only() -> tuple[SearchSpace, sparse.csr_matrix]:
    """A space with no build: four articles (ids 10-13) searched from their stored vectors.
    10 and 11 mean nearly the same, 12 has their words but another meaning, 13 is unrelated."""
    vectors = normalize_rows(np.asarray([[1.0, 0.0, 0.0], [0.95, 0.31, 0.0], [0.0, 1.0, 0.0],
                                         [0.0, 0.0, 1.0]], dtype=np.float32))
    model, matrix = LexicalModel.fit_transform(TEXTS, min_df=1)
    return SearchSpace(None, model, np.arange(10, 14, dtype=np.int64), vectors, matrix), matrix


def test_search_ranks_by_meaning_and_reports_the_lexical_cosine() -> None:
    space, matrix = _delta_only()
    query = space.vector(10)
    assert query is not None
    hits = space.search(query, matrix[0], 3)
    assert [h.id for h in hits] == [10, 11, 12]
    assert hits[1].semantic == pytest.approx(0.95 / np.hypot(0.95, 0.31), abs=1e-6)
    assert hits[2].lexical == pytest.approx(1.0, abs=1e-6)  # same words, other meaning
    assert space.search(query, None, 2)[1].lexical == 0.0  # a text with no lexical row
    assert len(space) == 4 and space.dimension == 3


def test_unknown_articles_have_no_vector_or_row() -> None:
    space, matrix = _delta_only()
    assert space.vector(99) is None and space.lexical_row(99) is None
    row = space.lexical_row(13)
    assert row is not None and (row != matrix[3]).nnz == 0


def test_pairwise_checks_words_only_where_meanings_are_alike() -> None:
    space, _ = _delta_only()
    semantic, lexical = space.pairwise([10, 11, 12])
    assert semantic[0, 1] >= formulas.ONE_TEXT_MIN_SEMANTIC > semantic[0, 2]
    assert lexical[0, 1] == pytest.approx(1.0, abs=1e-6)
    # 12 has the same words as 10 and 11, but their meanings differ: never checked
    assert lexical[0, 2] == 0.0 and lexical[1, 2] == 0.0
