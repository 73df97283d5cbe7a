"""The batch scorer: it scores as the per-page ranker does, and the build stores exactly the
lists the per-page reference ranker gives."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from recommender.catalog.items import ItemInfo, active_curations, load_items, recent_by_section
from recommender.live.recommender import Recommender
from recommender.ranking.batch import candidates_by_page, prescore
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import rank_page
from recommender.ranking.pairs import ItemArrays
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.stages import Candidate, filter_candidates, score_candidates
from recommender.settings import Settings
from recommender.storage.schema import Article, Curation, RelatedItem
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


@pytest.mark.parametrize("policy", [
    RankingPolicy(),
    RankingPolicy(semantic_weight=0.2, lexical_weight=0.8, tag_weight=0.3, author_weight=0.1,
                  recency_weight=0.8, mmr_lambda=0.7, quality_floor=0.0),
    RankingPolicy(same_language=False, recency_weight=0.0, mmr_lambda=1.0, quality_floor=0.35),
])
def test_batch_lists_equal_reference_ranking(tmp_path: Path, policy: RankingPolicy) -> None:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    settings = type(settings)(**{**settings.__dict__, "ranking": policy})
    engine, factory = load_demo(settings)
    with factory() as session:
        ids = {a.external_id: a.id for a in session.scalars(select(Article))}
        session.add_all([
            Curation(kind="pin", article_id=ids["demo-001"], target_id=ids["demo-070"],
                     position=2, created_by="t"),
            Curation(kind="block", article_id=ids["demo-001"], target_id=ids["demo-002"],
                     created_by="t"),
            Curation(kind="block", article_id=None, target_id=ids["demo-003"], created_by="t"),
        ])
        session.commit()
    rec = Recommender(settings, factory, encoder=FakeEncoder())
    rec.reindex()
    with factory() as session:
        space = rec._space(session)
        items = load_items(session)
        curations = active_curations(session)
        sections = recent_by_section(items)
        compared = 0
        for article in session.scalars(select(Article)):
            if not article.is_live():
                continue
            stored = list(session.scalars(select(RelatedItem.target_id)
                                          .where(RelatedItem.article_id == article.id)
                                          .order_by(RelatedItem.position)))
            vector = space.vector(article.id)
            assert vector is not None
            context = RankingContext(space, items, curations, sections, policy,
                                     settings.related_k, below_cut=0)
            ranked = rank_page(context, items[article.id], vector, space.lexical_row(article.id))
            assert stored == [c.id for c in ranked.items], article.external_id
            compared += 1
        assert compared == 84
        pinned = list(session.scalars(select(RelatedItem.target_id).where(
            RelatedItem.article_id == ids["demo-001"]).order_by(RelatedItem.position)))
        assert pinned[1] == ids["demo-070"] and ids["demo-002"] not in pinned
        assert ids["demo-003"] not in set(session.scalars(select(RelatedItem.target_id)))
    engine.dispose()


NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _catalogue() -> list[ItemInfo]:
    types = ["news", "opinion", "analysis", "evergreen"]
    return [ItemInfo(i, tags=tuple(f"t{(i * j) % 5}" for j in range(1 + i % 4)),
                     authors=(f"a{i % 3}",), content_type=types[i % 4],
                     published_at=None if i == 7 else NOW - timedelta(days=11 * i),
                     language="fr" if i == 5 else "en", live=i != 6,
                     publisher="a.example" if i % 2 else "b.example")
            for i in range(10)]


def test_prescore_is_the_reference_filter_and_score() -> None:
    """The batch scores every pair as ``stages`` scores one page's candidates, to the bit."""
    infos = _catalogue()
    policy = RankingPolicy(recency_weight=0.6, tag_weight=0.3, author_weight=0.05)
    idf = {"t0": 1.5, "t1": 2.5, "t3": 4.0}
    rng = np.random.default_rng(4)
    pages = np.asarray([1, 2, 3])
    cands = np.asarray([[0, 2, 3, 5, 6, 8, 1, -1], [9, 8, 7, 6, 5, 4, 3, -1],
                        [0, 1, 2, 4, 7, 8, 9, 3]])
    semantic = rng.random(cands.shape).astype(np.float32)
    lexical = rng.random(cands.shape).astype(np.float32)
    lexical[0, 1] = 0.95  # 2 has page 1's text but another publisher: kept
    lexical[1, 1] = 0.95  # 8 has page 2's text and publisher: a copy of the page
    site_blocked = np.asarray([i == 4 for i in range(10)])
    scores = prescore(ItemArrays(infos, idf, policy), pages, cands, semantic, lexical,
                      site_blocked)
    for row, page in enumerate(pages):
        candidates = [Candidate(infos[c], semantic=float(semantic[row, j]),
                                lexical=float(lexical[row, j]))
                      for j, c in enumerate(cands[row]) if c >= 0]
        kept, _ = filter_candidates(infos[page], candidates, policy, blocked=frozenset({4}))
        score_candidates(infos[page], kept, policy, idf)
        expected = dict.fromkeys(cands[row].tolist(), -math.inf)
        expected.update({c.id: c.score for c in kept})
        assert scores[row].tolist() == [expected[c] for c in cands[row].tolist()]
    assert np.isneginf(scores[:, -1][:2]).all()  # no candidate (-1)
    assert np.isneginf(scores[0, [3, 4, 6]]).all()  # another language, not live, the page
    assert np.isneginf(scores[1, [1, 5]]).all()  # a copy of the page, blocked site-wide
    assert np.isfinite(scores[0, 1]) and np.isfinite(scores[2, 4])  # 7 is undated: kept


def test_no_build_no_candidates(tmp_path: Path) -> None:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    with factory() as session:
        space = Recommender(settings, factory, encoder=FakeEncoder())._space(session)
        items = load_items(session)
        context = RankingContext(space, items, active_curations(session),
                                 recent_by_section(items), RankingPolicy(), 6)
    assert space.build is None
    assert list(candidates_by_page(context)) == []
    engine.dispose()
