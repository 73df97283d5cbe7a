"""The candidate search space: the serving build plus the articles embedded since."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.live.recommender import Recommender
from recommender.storage.schema import Article


def test_an_article_published_after_the_build_is_smoothed_too(
        demo: tuple[Recommender, sessionmaker[Session]]) -> None:
    rec, factory = demo
    rec.reindex()
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
