"""Editors' rules: pin an item at a position, block it for one page or everywhere, remove a rule.

Each change and its audit entry are committed in one transaction, so the log can never miss a
change nor record one that did not happen. Nothing is recomputed here: the reader's path
(``readers.related_for``) re-applies live pins and blocks on every read, so a change is visible to
readers (and changes the ETag) the moment it is committed, and the next build or refresh bakes it
into the stored lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from recommender.storage.schema import Article, AuditEntry, Curation, utcnow

MAX_REASON = 2000


class CurationError(ValueError):
    """A rule that cannot be made (unknown article, a page pinned to itself, a past expiry...)."""


@dataclass(frozen=True)
class Rule:
    """A rule as editors see it: the stored row plus whether it is still in force."""

    curation: Curation
    active: bool


def _article(session: Session, article_id: int, role: str) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise CurationError(f"no {role} article with id {article_id}")
    return article


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise CurationError("expiry must carry a time zone")
        if expires_at <= now:
            raise CurationError("expiry must be in the future")


def audit(session: Session, *, actor: str, action: str, article_id: int | None = None,
          target_id: int | None = None, reason: str = "",
          details: dict[str, Any] | None = None) -> AuditEntry:
    """Add one audit entry to the current transaction (the caller commits)."""
    entry = AuditEntry(actor=actor, action=action, article_id=article_id, target_id=target_id,
                       reason=reason[:MAX_REASON], details=details or {}, at=utcnow())
    session.add(entry)
    return entry


def _active(query: Any, now: datetime) -> Any:
    return query.where(or_(Curation.expires_at.is_(None), Curation.expires_at > now))


def _replace_existing(session: Session, kind: str, article_id: int | None, target_id: int,
                      now: datetime) -> list[int]:
    """End the same kind of rule on the same pair, so one pair has one rule of each kind."""
    query = select(Curation).where(Curation.kind == kind, Curation.target_id == target_id,
                                   Curation.article_id.is_(None) if article_id is None
                                   else Curation.article_id == article_id)
    replaced = []
    for rule in session.scalars(_active(query, now)):
        replaced.append(rule.id)
        session.delete(rule)
    return replaced


def _create(session: Session, *, kind: str, actor: str, article_id: int | None, target_id: int,
            position: int | None, expires_at: datetime | None, reason: str,
            action: str) -> Curation:
    now = utcnow()
    _check_expiry(expires_at, now)
    target = _article(session, target_id, "target")
    if article_id is not None:
        _article(session, article_id, "page")
        if article_id == target_id:
            raise CurationError("an article cannot be related to itself")
    replaced = _replace_existing(session, kind, article_id, target_id, now)
    rule = Curation(kind=kind, article_id=article_id, target_id=target_id, position=position,
                    reason=reason[:MAX_REASON], created_by=actor, created=now,
                    expires_at=expires_at)
    session.add(rule)
    session.flush()
    details: dict[str, Any] = {"rule_id": rule.id, "target": target.external_id,
                               "expires_at": expires_at.isoformat() if expires_at else None}
    if position is not None:
        details["position"] = position
    if replaced:
        details["replaced"] = replaced
    audit(session, actor=actor, action=action, article_id=article_id, target_id=target_id,
          reason=reason, details=details)
    session.commit()
    return rule


def pin(session: Session, *, actor: str, article_id: int, target_id: int, position: int,
        expires_at: datetime | None = None, reason: str = "", max_position: int = 12) -> Curation:
    """Show ``target`` at ``position`` (1-based) in ``article``'s list until ``expires_at``."""
    if not 1 <= position <= max_position:
        raise CurationError(f"position must be from 1 to {max_position}")
    return _create(session, kind="pin", actor=actor, article_id=article_id, target_id=target_id,
                   position=position, expires_at=expires_at, reason=reason, action="pin")


def block(session: Session, *, actor: str, article_id: int, target_id: int,
          expires_at: datetime | None = None, reason: str = "") -> Curation:
    """Never show ``target`` in ``article``'s list until ``expires_at``."""
    return _create(session, kind="block", actor=actor, article_id=article_id, target_id=target_id,
                   position=None, expires_at=expires_at, reason=reason, action="block")


def block_everywhere(session: Session, *, actor: str, target_id: int,
                     expires_at: datetime | None = None, reason: str = "") -> Curation:
    """Never show ``target`` in any list (a correction, a legal takedown) until ``expires_at``.

    A reason is required (the editors' form says so too): a site-wide block silently removes an
    article from every page, and the audit log must say why for whoever finds it later.
    """
    if not reason.strip():
        raise CurationError("a site-wide block needs a reason (a correction, a legal takedown, …)")
    return _create(session, kind="block", actor=actor, article_id=None, target_id=target_id,
                   position=None, expires_at=expires_at, reason=reason, action="block-site-wide")


def remove(session: Session, *, actor: str, rule_id: int, reason: str = "") -> None:
    """Delete a rule; the audit entry keeps what it was."""
    rule = session.get(Curation, rule_id)
    if rule is None:
        raise CurationError(f"no rule with id {rule_id}")
    details: dict[str, Any] = {"rule_id": rule.id, "kind": rule.kind,
                               "site_wide": rule.article_id is None}
    if rule.position is not None:
        details["position"] = rule.position
    audit(session, actor=actor, action="remove", article_id=rule.article_id,
          target_id=rule.target_id, reason=reason, details=details)
    session.delete(rule)
    session.commit()


def rules_for(session: Session, article_id: int, now: datetime | None = None) -> list[Rule]:
    """Every rule on this article's list, site-wide blocks included, expired ones marked."""
    moment = now or utcnow()
    query = select(Curation).where(or_(Curation.article_id == article_id,
                                       Curation.article_id.is_(None)))
    return [Rule(rule, rule.expires_at is None or rule.expires_at > moment)
            for rule in session.scalars(query.order_by(Curation.kind, Curation.position,
                                                       Curation.id))]


def audit_log(session: Session, *, article_id: int | None = None, limit: int = 100,
              before_id: int | None = None) -> list[AuditEntry]:
    """Newest first; for one article, entries about its list or about it as a target."""
    query = select(AuditEntry)
    if article_id is not None:
        query = query.where(or_(AuditEntry.article_id == article_id,
                                AuditEntry.target_id == article_id))
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
