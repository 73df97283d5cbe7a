"""Related lists from a ranking context: one page live, every page of a build, and storing them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.catalog.items import Curations, active_curations, load_items, recent_by_section
from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import compute_all, rank_page, related_rows, replace_lists
from recommender.storage.schema import RelatedItem, utcnow


@pytest.fixture
def built(demo: tuple[Recommender, sessionmaker[Session]]
          ) -> Iterator[tuple[Recommender, Session, RankingContext]]:
    """The demo built, a session on it and the context a live ranking of it uses."""
    rec, factory = demo
    full_build(rec)
    with factory() as session:
        items = load_items(session)
        context = RankingContext(rec._space(session), items, active_curations(session),
                                 recent_by_section(items), rec.policy(session), 6)
        yield rec, session, context


def _page(context: RankingContext) -> int:
    return min(i for i, info in context.items.items() if info.live)


def _rank(context: RankingContext, page_id: int, **changes: object) -> list[int]:
    context = RankingContext(**{**context.__dict__, **changes})  # type: ignore[arg-type]
    vector = context.space.vector(page_id)
    assert vector is not None
    ranked = rank_page(context, context.items[page_id], vector,
                       context.space.lexical_row(page_id))
    return [c.id for c in ranked.items]


def test_rank_page_applies_the_contexts_pins_and_blocks(
        built: tuple[Recommender, Session, RankingContext]) -> None:
    _rec, _session, context = built
    page = _page(context)
    plain = _rank(context, page)
    assert len(plain) == 6 and page not in plain
    target = next(i for i, info in context.items.items()
                  if info.live and i not in plain and i != page)
    curations = Curations(pins={page: [(target, 1)]}, blocks={page: {plain[0]}})
    curated = _rank(context, page, curations=curations)
    # the pin takes the first place, the blocked item's place goes to the next ones
    assert curated == [target, *plain[1:]]


def test_the_context_sets_the_length_and_what_is_kept_below_the_cut(
        built: tuple[Recommender, Session, RankingContext]) -> None:
    _rec, _session, context = built
    page = _page(context)
    assert len(_rank(context, page, k=3)) == 3
    vector = context.space.vector(page)
    assert vector is not None
    for below_cut in (0, 2):
        narrow = RankingContext(**{**context.__dict__, "k": 3, "below_cut": below_cut})
        ranked = rank_page(narrow, context.items[page], vector, context.space.lexical_row(page))
        assert len(ranked.below_cut) == below_cut
        # what is below a cut of 3 is what a list of 5 places 4th and 5th
        longer = _rank(context, page, k=3 + below_cut)
        assert [c.id for c in ranked.below_cut] == longer[3:]


def test_compute_all_lists_every_live_page_and_replace_lists_stores_them(
        built: tuple[Recommender, Session, RankingContext]) -> None:
    _rec, session, context = built
    stored = RankingContext(**{**context.__dict__, "below_cut": 0})
    now = utcnow()
    pages, rows = compute_all(stored, "b-test", now)
    build = context.space.build
    assert build is not None
    assert sorted(pages) == sorted(int(a) for a in build.ids if context.items[int(a)].live)
    page = pages[0]
    mine = [r for r in rows if r["article_id"] == page]
    assert [r["position"] for r in mine] == list(range(1, len(mine) + 1))
    assert [r["target_id"] for r in mine] == _rank(context, page)
    replace_lists(session, [page], mine[:2])
    session.commit()
    kept = session.execute(select(RelatedItem.target_id, RelatedItem.build_id)
                           .where(RelatedItem.article_id == page)
                           .order_by(RelatedItem.position)).all()
    assert kept == [(r["target_id"], "b-test") for r in mine[:2]]


def test_related_rows_number_positions_and_round_scores(
        built: tuple[Recommender, Session, RankingContext]) -> None:
    _rec, _session, context = built
    page = _page(context)
    vector = context.space.vector(page)
    assert vector is not None
    ranked = rank_page(context, context.items[page], vector, context.space.lexical_row(page))
    now = utcnow()
    rows = related_rows(page, ranked, "b1", now)
    assert [r["position"] for r in rows] == list(range(1, len(ranked.items) + 1))
    assert [r["score"] for r in rows] == [round(c.score, 6) for c in ranked.items]
    assert rows[0]["signals"] is ranked.items[0].signals
    assert {r["build_id"] for r in rows} == {"b1"} and {r["computed"] for r in rows} == {now}
