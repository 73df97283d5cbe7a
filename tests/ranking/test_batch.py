"""The nightly batch path stores exactly the lists the per-page reference ranker gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from recommender.catalog.items import active_curations, load_items, recent_by_section
from recommender.live.recommender import Recommender
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import rank_page
from recommender.ranking.policy import RankingPolicy
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
