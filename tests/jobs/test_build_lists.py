"""A build's lists block by block through the engine, and the feedback path, both spooled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.catalog.items import active_curations, load_items, recent_by_section
from recommender.index.builds import BuildError, IndexStore
from recommender.jobs.build import full_build
from recommender.jobs.build_inputs import ListSpool
from recommender.jobs.build_lists import compute_all, feedback_lists, validate
from recommender.jobs.engine import LocalEngine
from recommender.live.recommender import Recommender
from recommender.ranking import lists
from recommender.ranking.build_data import RankingBuild
from recommender.ranking.context import RankingContext
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.space import SearchSpace
from recommender.settings import Settings
from recommender.storage.schema import utcnow
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


def _context(tmp_path: Path) -> tuple[RankingContext, IndexStore, str]:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    db, factory = load_demo(settings)
    report = full_build(Recommender(settings, factory, encoder=FakeEncoder()))
    store = IndexStore(settings.index_dir)
    build = RankingBuild.load(store, report.build_id, verify=True)
    space = SearchSpace(build, build.lexical, np.zeros(0, dtype=np.int64),
                        np.zeros((0, build.vectors.shape[1]), dtype=np.float32),
                        build.lexical.transform([]))
    with factory() as session:
        items = load_items(session)
        curations = active_curations(session, utcnow())
    db.dispose()
    context = RankingContext(space, items, curations, recent_by_section(items), RankingPolicy(),
                             settings.related_k, below_cut=0)
    return context, store, report.build_id


def _spooled(spool: ListSpool) -> list[tuple[object, ...]]:
    return [row for block in spool.blocks() for row in block]


def test_blocks_from_the_engine_equal_the_lists_computed_at_once(tmp_path: Path) -> None:
    context, store, build_id = _context(tmp_path)
    now = utcnow()
    want_pages, want_rows = lists.compute_all(context, build_id, now)
    spool = ListSpool(tmp_path / "spool")
    pages, with_list = compute_all(context, spool, LocalEngine(block=10), store, build_id, now)
    assert pages == want_pages and len(pages) == 84
    assert with_list == len({r["article_id"] for r in want_rows})
    assert _spooled(spool) == [(r["article_id"], r["target_id"], r["position"], r["score"],
                                r["signals"], r["fallback"]) for r in want_rows]
    # the feedback path (no cap, no experiment) spools the very same rows
    other = ListSpool(tmp_path / "other")
    got = feedback_lists(None, context, other, cap=0.0,  # type: ignore[arg-type]
                         experiment=None, build_id=build_id, now=now)
    assert got == (pages, with_list, {}, {})
    assert other.rows == spool.rows == len(want_rows)
    assert _spooled(other) == _spooled(spool)


def test_lists_that_break_a_promise_to_readers_are_refused(tmp_path: Path) -> None:
    context, _, _ = _context(tmp_path)
    live = [a for a, info in context.items.items() if info.live]
    hidden = [a for a, info in context.items.items() if not info.live]
    assert validate([(live[0], live[1], 1, 0.5, {}, False)], context.items) == 1
    with pytest.raises(BuildError, match="links to itself"):
        validate([(live[0], live[0], 1, 0.5, {}, False)], context.items)
    with pytest.raises(BuildError, match="unpublished"):
        validate([(live[0], hidden[0] if hidden else 10**9, 1, 0.5, {}, False)], context.items)
