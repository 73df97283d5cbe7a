"""The effective ranking policy: the newest one editors saved, else the deployment's settings.

Editors tune weights from the policy preview and save them "for the next build"; the build (and
every live ranking) reads the policy through here, so a saved policy takes effect everywhere at
once without editing ``RELATED_RANKING_*`` and restarting. Rows are never updated, only added, so
the table is also the policy's history.

A saved policy can stop validating (a field removed or renamed in a later version). The build must
not stop over it, so the settings' policy is used instead, but never silently: every fallback is
logged with the saved policy's id and the error, and ``policy_status`` tells the editors' pages,
which show it until someone saves a valid policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.curation import audit
from recommender.ranking.policy import RankingPolicy
from recommender.storage.schema import SavedPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PolicyStatus:
    """The policy in force and, when the newest saved one no longer validates, why it is not."""

    policy: RankingPolicy
    saved_id: int | None  # the saved policy in force; None: the settings' policy
    broken_id: int | None = None  # the newest saved policy, when it no longer validates
    error: str = ""

    @property
    def problem(self) -> str:
        """What editors are told ("" when the newest saved policy is in force or none exists)."""
        if self.broken_id is None:
            return ""
        return (f"Saved ranking policy #{self.broken_id} no longer validates ({self.error}). "
                "Builds and live rankings use the deployment's settings (RELATED_RANKING_*) "
                "until a valid policy is saved.")


def latest_saved(session: Session) -> SavedPolicy | None:
    return session.scalars(select(SavedPolicy).order_by(SavedPolicy.id.desc()).limit(1)).first()


def policy_status(session: Session, default: RankingPolicy) -> PolicyStatus:
    """The newest saved policy, or ``default`` (the settings') when none was saved or the newest
    no longer validates (reported in the status; the editors' pages show it)."""
    saved = latest_saved(session)
    if saved is None:
        return PolicyStatus(default, None)
    try:
        return PolicyStatus(RankingPolicy.from_dict(saved.policy), saved.id)
    except (TypeError, ValueError) as exc:
        return PolicyStatus(default, None, saved.id, str(exc))


def current_policy(session: Session, default: RankingPolicy) -> RankingPolicy:
    """The policy builds and live rankings use; a fallback from a broken saved one is logged."""
    status = policy_status(session, default)
    if status.broken_id is not None:
        log.warning("saved ranking policy #%s no longer validates (%s); using the settings' "
                    "policy (RELATED_RANKING_*) until a valid one is saved",
                    status.broken_id, status.error)
    return status.policy


def save_policy(session: Session, policy: RankingPolicy, *, actor: str,
                note: str = "") -> SavedPolicy:
    """Store ``policy`` as the current one, with an audit entry, in one transaction."""
    record = SavedPolicy(policy=policy.to_dict(), created_by=actor, note=note[:2000])
    session.add(record)
    session.flush()
    audit(session, actor=actor, action="policy-save", reason=note,
          details={"policy_id": record.id, "policy": policy.to_dict()})
    session.commit()
    return record


def history(session: Session, limit: int = 20) -> list[SavedPolicy]:
    return list(session.scalars(select(SavedPolicy).order_by(SavedPolicy.id.desc()).limit(limit)))
