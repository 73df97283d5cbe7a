"""Lists precomputed per arm, and the arm a served list belongs to.

During an experiment the build ranks every page twice over the same index (once with each arm's
saved policy) and stores, for each page, the list of the arm the page is assigned to: still one
list per page, so the read path, its caching and its ETags are unchanged. The build records the
experiment in its stats; the widget labels a list with the arm of the build it came from (not of
whatever experiment runs now), so events are never credited to an arm whose lists are not yet
served.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.feedback.events import DEFAULT_ARM
from recommender.feedback.experiments import arm_names, assign, policies
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import ListExtras, compute_all
from recommender.storage.feedback_tables import Experiment
from recommender.storage.schema import Article, IndexBuild

Rows = list[dict[str, Any]]
_experiment_of_build: dict[str, tuple[str, float] | None] = {}
_lock = threading.Lock()


def arm_rows(session: Session, experiment: Experiment, context: RankingContext, build_id: str,
             now: datetime, extras: ListExtras | None,
             progress: Callable[[int], None] | None = None
             ) -> tuple[list[int], Rows, ListExtras | None, dict[str, Any]]:
    """Every page's list under its arm's policy: (pages, rows, extras, the build's stats)."""
    external = {int(i): str(e) for i, e in session.execute(select(Article.id, Article.external_id))}
    results = []
    for policy in policies(session, experiment):
        arm_extras = ListExtras() if extras is not None else None
        pages, rows = compute_all(replace(context, policy=policy), build_id, now,
                                  extras=arm_extras, progress=progress)
        results.append((pages, rows, arm_extras))
    a, b = arm_names(experiment.name)
    arm_of = {page: assign(experiment.name, experiment.split, external[page])
              for page in results[0][0]}
    rows = [r for index, arm in ((0, a), (1, b)) for r in results[index][1]
            if arm_of.get(r["article_id"]) == arm]
    merged = None
    if extras is not None:
        merged = ListExtras()
        for index, arm in ((0, a), (1, b)):
            source = results[index][2]
            assert source is not None
            merged.spares.update({p: s for p, s in source.spares.items() if arm_of.get(p) == arm})
            merged.pinned.update(pair for pair in source.pinned if arm_of.get(pair[0]) == arm)
    counts = {arm: sum(1 for v in arm_of.values() if v == arm) for arm in (a, b)}
    stats = {"name": experiment.name, "split": experiment.split, "pages": counts}
    return results[0][0], rows, merged, stats


def arm_for(session: Session, build_id: str, page: str) -> str:
    """The arm label of a page's list from this build: an experiment's arm, or "default"."""
    with _lock:
        known = build_id in _experiment_of_build
        recorded = _experiment_of_build.get(build_id)
    if not known:
        build = session.get(IndexBuild, build_id) if build_id else None
        stats = (build.stats or {}).get("experiment") if build is not None else None
        recorded = (str(stats["name"]), float(stats["split"])) if stats else None
        if build is not None and build.status == "ready":  # builds never change once ready
            with _lock:
                _experiment_of_build[build_id] = recorded
    return DEFAULT_ARM if recorded is None else assign(recorded[0], recorded[1], page)
