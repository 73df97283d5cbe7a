"""The effective ranking policy: the newest one editors saved, else the deployment's settings.

Editors tune weights from the policy preview and save them "for the next build"; the build (and
every live ranking) reads the policy through here, so a saved policy takes effect everywhere at
once without editing ``RELATED_RANKING_*`` and restarting. Rows are never updated, only added, so
the table is also the policy's history.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.curation import audit
from recommender.ranking.policy import RankingPolicy
from recommender.storage.schema import SavedPolicy


def latest_saved(session: Session) -> SavedPolicy | None:
    return session.scalars(select(SavedPolicy).order_by(SavedPolicy.id.desc()).limit(1)).first()


def current_policy(session: Session, default: RankingPolicy) -> RankingPolicy:
    """The newest saved policy, or ``default`` (the settings') when none was saved.

    A saved policy that no longer validates (a field removed in a later version) falls back to
    the default rather than stopping every build.
    """
    saved = latest_saved(session)
    if saved is None:
        return default
    try:
        return RankingPolicy.from_dict(saved.policy)
    except (TypeError, ValueError):
        return default


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
