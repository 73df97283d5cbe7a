"""The batch scorer: it scores as the per-page ranker does, and the build stores exactly the
lists the per-page reference ranker gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from recommender.catalog.items import active_curations, load_items, recent_by_section
from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.ranking.batch import candidates_by_page
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import rank_page
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.stages import Candidate, filter_candidates, score_candidates
from recommender.settings import Settings
from recommender.storage.schema import Article, Curation, RelatedItem
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder
from tests.helpers.multilingual import import_translations


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
    full_build(rec)
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



def test_batch_filters_and_scores_as_the_stages_do(tmp_path: Path) -> None:
    """Each page's kept and dropped candidates, scores and signals are those ``stages`` gives
    the same candidates one page at a time, to the bit."""
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    policy = RankingPolicy(recency_weight=0.6, tag_weight=0.3, author_weight=0.05,
                           near_duplicate_threshold=0.3)
    engine, factory = load_demo(settings)
    with factory() as session:
        ids = {a.external_id: a.id for a in session.scalars(select(Article))}
        session.add_all([
            Curation(kind="block", article_id=ids["demo-001"], target_id=ids["demo-002"],
                     created_by="t"),
            Curation(kind="block", article_id=None, target_id=ids["demo-003"], created_by="t")])
        session.commit()
    rec = Recommender(settings, factory, encoder=FakeEncoder())
    full_build(rec)
    with factory() as session:
        items = load_items(session)
        context = RankingContext(rec._space(session), items, active_curations(session),
                                 recent_by_section(items), policy, 6, below_cut=0)
        reasons: set[str] = set()
        for found in candidates_by_page(context, batch=16):
            page = items[found.article_id]
            fresh = [Candidate(c.info, semantic=c.semantic, lexical=c.lexical)
                     for c in [*found.kept, *(d.candidate for d in found.dropped)]]
            kept, dropped = filter_candidates(page, fresh, policy,
                                              blocked=context.curations.blocked_for(page.id))
            score_candidates(page, kept, policy, context.tag_idf)
            assert [(c.id, c.score, c.signals) for c in kept] \
                == [(c.id, c.score, c.signals) for c in found.kept]
            assert sorted((d.candidate.id, d.reason) for d in dropped) \
                == sorted((d.candidate.id, d.reason) for d in found.dropped)
            reasons.update(d.reason for d in dropped)
    assert {"the page itself", "blocked", "near-duplicate of the page"} <= reasons
    engine.dispose()


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


def test_no_build_list_crosses_languages(tmp_path: Path) -> None:
    """A multilingual catalogue (each translation's nearest neighbour is its original): the
    build stores no list that crosses languages, either way, pins and filler included, and
    still equals the per-page ranking; short foreign-language lists fill from their language."""
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    with factory() as session:
        import_translations(session, tmp_path, {"fr": 6, "de": 2})
        ids = {a.external_id: a.id for a in session.scalars(select(Article))}
        session.add_all([  # pins across languages, both ways
            Curation(kind="pin", article_id=ids["demo-001"], target_id=ids["fr-demo-001"],
                     position=1, created_by="t"),
            Curation(kind="pin", article_id=ids["fr-demo-002"], target_id=ids["demo-002"],
                     position=1, created_by="t")])
        session.commit()
    rec = Recommender(settings, factory, encoder=FakeEncoder())
    full_build(rec)
    with factory() as session:
        language = {i: lang for i, lang in session.execute(select(Article.id, Article.language))}
        rows = session.execute(select(RelatedItem.article_id, RelatedItem.target_id)).all()
        assert rows and all(language[page] == language[target] for page, target in rows)
        by_page: dict[int, int] = {}
        for page, _ in rows:
            by_page[page] = by_page.get(page, 0) + 1
        assert by_page[ids["de-demo-001"]] == 1  # its one German neighbour, no English filler
        assert all(by_page.get(ids[f"fr-demo-00{i}"], 0) >= 3 for i in range(1, 7))
        space, items = rec._space(session), load_items(session)
        context = RankingContext(space, items, active_curations(session), recent_by_section(items),
                                 settings.ranking, settings.related_k, below_cut=0)
        for page_id in (ids["demo-001"], ids["fr-demo-002"], ids["de-demo-002"]):
            vector = space.vector(page_id)
            assert vector is not None
            ranked = rank_page(context, items[page_id], vector, space.lexical_row(page_id))
            stored = list(session.scalars(select(RelatedItem.target_id).where(
                RelatedItem.article_id == page_id).order_by(RelatedItem.position)))
            assert stored == [c.id for c in ranked.items]
    engine.dispose()
