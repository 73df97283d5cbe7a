"""Experiments: two saved ranking policies on live traffic, pages split between them.

Assignment is by page (a hash of the experiment's name and the page's id), never by reader: a
page's URL always gets the same list, so responses stay cacheable by URL and by CDN, and nothing
about a reader is needed. The build precomputes each page's list with its arm's policy
(``arm_rows``), the widget labels events with the arm, and ``analyse`` compares the arms with
page-level (cluster-robust) intervals. Ending one can promote the winner: it is saved as the
current policy. Starting, ending and promoting all go to the audit log.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.curation import audit
from recommender.feedback.analysis import Comparison, compare
from recommender.feedback.counts import Window, box_counts, item_counts, midnight
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.saved import save_policy
from recommender.storage.feedback_tables import Experiment
from recommender.storage.schema import SavedPolicy, utcnow

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class ExperimentError(ValueError):
    """The experiment cannot be started or ended as asked; the message says why."""


def running(session: Session) -> Experiment | None:
    return session.scalars(select(Experiment).where(Experiment.status == "running")
                           .order_by(Experiment.id.desc()).limit(1)).first()


def by_name(session: Session, name: str) -> Experiment | None:
    return session.scalars(select(Experiment).where(Experiment.name == name)).first()


def history(session: Session, limit: int = 20) -> list[Experiment]:
    """The ended experiments, newest first (their outcomes are kept on the row)."""
    return list(session.scalars(select(Experiment).where(Experiment.status == "ended")
                                .order_by(Experiment.id.desc()).limit(limit)))


def arm_names(name: str) -> tuple[str, str]:
    return f"{name}-a", f"{name}-b"


def assign(name: str, split: float, page: str) -> str:
    """The arm of one page (its CMS id): the same on every request, server and build."""
    digest = hashlib.sha256(f"{name}\x00{page}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2 ** 64
    a, b = arm_names(name)
    return b if fraction < split else a


def _policy(session: Session, policy_id: int) -> RankingPolicy:
    record = session.get(SavedPolicy, policy_id)
    if record is None:
        raise ExperimentError(f"no saved ranking policy #{policy_id}")
    try:
        return RankingPolicy.from_dict(record.policy)
    except (TypeError, ValueError) as exc:
        raise ExperimentError(f"saved policy #{policy_id} no longer validates: {exc}") from None


def policies(session: Session, experiment: Experiment) -> tuple[RankingPolicy, RankingPolicy]:
    return _policy(session, experiment.policy_a_id), _policy(session, experiment.policy_b_id)


def start(session: Session, *, name: str, policy_a: int, policy_b: int, split: float,
          actor: str) -> Experiment:
    """Start an experiment (one at a time); its lists are built by the next reindex."""
    if not NAME.fullmatch(name):
        raise ExperimentError("the name must be 1-40 lower-case letters, digits or hyphens")
    if not 0.0 < split < 1.0:
        raise ExperimentError(f"the split (share of pages on B) must be between 0 and 1, "
                              f"not {split}")
    if policy_a == policy_b:
        raise ExperimentError("choose two different saved policies")
    current = running(session)
    if current is not None:
        raise ExperimentError(f"experiment {current.name!r} is still running; end it first")
    if by_name(session, name) is not None:
        raise ExperimentError(f"an experiment named {name!r} already exists")
    _policy(session, policy_a), _policy(session, policy_b)
    experiment = Experiment(name=name, policy_a_id=policy_a, policy_b_id=policy_b, split=split,
                            created_by=actor, outcome={})
    session.add(experiment)
    session.flush()
    audit(session, actor=actor, action="experiment-start", reason=name,
          details={"experiment": name, "policy_a": policy_a, "policy_b": policy_b,
                   "split": split})
    session.commit()
    return experiment


def per_page(session: Session, experiment: Experiment, now: datetime | None = None
             ) -> dict[str, list[tuple[int, int]]]:
    """(views, clicks) of every page in each arm since the experiment started."""
    now = now or utcnow()
    end = experiment.ended or now
    days = (midnight(end) - midnight(experiment.started)).days + 1
    window = Window.last(session, days, end)
    views = box_counts(session, window, ("page", "arm"))
    clicks = item_counts(session, window, ("page", "arm"))
    out: dict[str, list[tuple[int, int]]] = {arm: [] for arm in arm_names(experiment.name)}
    for (page, arm), (seen, _) in views.items():
        if arm in out:
            out[arm].append((seen, clicks.get((page, arm), [0, 0])[1]))
    return out


def analyse(session: Session, experiment: Experiment, now: datetime | None = None) -> Comparison:
    a, b = arm_names(experiment.name)
    pages = per_page(session, experiment, now)
    return compare(pages[a], pages[b])


def end(session: Session, experiment: Experiment, *, actor: str, promote: bool) -> dict[str, Any]:
    """End it, record the outcome; with ``promote`` a significant winner becomes the policy."""
    if experiment.status != "running":
        raise ExperimentError(f"experiment {experiment.name!r} has already ended")
    result = analyse(session, experiment)
    outcome: dict[str, Any] = result.to_dict()
    promoted = None
    if promote and result.winner is not None:
        winner_id = experiment.policy_b_id if result.winner == "b" else experiment.policy_a_id
        record = save_policy(session, _policy(session, winner_id), actor=actor,
                             note=f"promoted: winner of experiment {experiment.name} "
                                  f"(saved policy #{winner_id})")
        promoted = record.id
    outcome["promoted_policy"] = promoted
    experiment.status, experiment.ended, experiment.outcome = "ended", utcnow(), outcome
    audit(session, actor=actor, action="experiment-end", reason=result.statement,
          details={"experiment": experiment.name, "winner": result.winner,
                   "promoted_policy": promoted, "p": outcome["p"]})
    session.commit()
    return outcome
