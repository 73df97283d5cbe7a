"""A build's lists: computed block by block (by the engine), checked, and spooled to disk.

The engine (``engine.LocalEngine`` in this process, ``ray_engine.RayEngine`` on a cluster) hands
back the lists of one block of pages at a time, in the build's order; each block is checked
against the promises made to readers (no self-links, nothing unpublished) and pickled into the
``ListSpool``, which the swap writes in bulk. Memory stays one block's worth of rows.

The readers' feedback (#16) needs the whole catalogue's lists at once: the exposure cap moves
slots between pages, and an experiment ranks every page once per arm. While either is on, the
lists are computed in memory as before and only then spooled (``feedback_lists``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from recommender.feedback.arms import arm_rows
from recommender.index.builds import BuildError, IndexStore
from recommender.jobs.build_inputs import ListSpool
from recommender.jobs.engine import BuildEngine
from recommender.ranking import lists
from recommender.ranking.context import RankingContext
from recommender.ranking.exposure import enforce_cap
from recommender.ranking.lists import ListExtras, ListRow
from recommender.storage.feedback_tables import Experiment

Progress = Callable[[int], None]
SPARES = 10  # candidates kept below the cut per page for the exposure cap to move into a slot


def compute_all(context: RankingContext, spool: ListSpool, engine: BuildEngine,
                store: IndexStore, build_id: str, now: datetime, *,
                progress: Progress | None = None) -> tuple[list[int], int]:
    """Every list of the build, a block of pages at a time from the engine, checked and
    spooled; returns (the pages, how many got a non-empty list)."""
    pages: list[int] = []
    with_list = 0
    for block, rows in engine.lists(context, store, build_id, now, progress):
        with_list += validate(rows, context.items)
        spool.add(rows)
        pages.extend(block)
    return pages, with_list


def feedback_lists(session: Session, context: RankingContext, spool: ListSpool, *,
                   cap: float, experiment: Experiment | None, build_id: str, now: datetime,
                   progress: Progress | None = None
                   ) -> tuple[list[int], int, dict[str, Any], dict[str, Any]]:
    """The lists with an exposure cap (``cap > 0``) and/or an experiment's arms, spooled;
    returns (pages, pages with a list, the cap's report, the experiment's stats).

    NOT memory-bounded yet: the cap and the arms need every page's rows (and spares) at once,
    so they are held in memory, in this process, as before the spool existed; only the write
    is bulk. The context must keep ``SPARES`` below the cut when the cap is on.
    """
    extras = ListExtras() if cap > 0 else None
    arms: dict[str, Any] = {}
    if experiment is None:
        pages, rows = lists.compute_all(context, build_id, now, extras=extras, progress=progress)
    else:
        pages, rows, extras, arms = arm_rows(session, experiment, context, build_id, now,
                                             extras, progress)
    exposure: dict[str, Any] = {}
    if extras is not None:
        rows, capping = enforce_cap(rows, extras.spares, extras.pinned, cap, listed=len(pages))
        exposure = capping.to_dict()
    tuples: list[ListRow] = [(r["article_id"], r["target_id"], r["position"], r["score"],
                              r["signals"], r["fallback"]) for r in rows]
    del rows
    with_list = validate(tuples, context.items)
    spool.add(tuples)
    return pages, with_list, exposure, arms


def validate(rows: list[ListRow], items: Mapping[int, Any]) -> int:
    """Refuse a build whose lists break a promise to readers; returns how many pages of these
    rows have a list."""
    with_list = set()
    for article_id, target_id, *_ in rows:
        if target_id == article_id:
            raise BuildError(f"article {article_id} links to itself")
        target = items.get(target_id)
        if target is None or not target.live:
            raise BuildError(f"article {article_id} links to unpublished {target_id}")
        with_list.add(article_id)
    return len(with_list)
