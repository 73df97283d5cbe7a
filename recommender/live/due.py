"""Scheduled articles whose time has come: give each its list and put it in its neighbours'.

A scheduled article is live from its ``published_at`` on (``catalog.live``), but nothing happens
at that moment: its page answers, while its own list is empty and it appears in no other list
until something refreshes them. ``related-reading publish-due``, run by cron every minute
(docs/operations.md), is that something: it finds the scheduled articles now live, refreshes
every list they enter (``Recommender.refresh``, as the publish webhook does) and stores them as
``published`` with an audit entry, all in one transaction under the writer lock. The stored
status is the watermark: an article handled once is never due again, so a run with nothing due
is one indexed query and loads no model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.live import live_clause
from recommender.live.recommender import Recommender
from recommender.storage.schema import Article, AuditEntry, utcnow

ACTOR = "publish-due"
BATCH = 200  # articles per run: a backlog (after downtime) is worked off over a few runs


@dataclass
class DueReport:
    """What one run did: the CMS ids that went live and how many lists were refreshed."""

    went_live: list[str] = field(default_factory=list)
    lists_updated: int = 0
    remaining: bool = False  # more were due than one run takes (the next run continues)

    def to_dict(self) -> dict[str, object]:
        return {"went_live": len(self.went_live), "ids": self.went_live,
                "lists_updated": self.lists_updated, "remaining": self.remaining}


def due(session: Session, now: datetime, limit: int = BATCH) -> list[Article]:
    """Scheduled articles that are live at ``now`` (stored status still ``scheduled``), oldest
    first."""
    return list(session.scalars(
        select(Article).where(Article.status == "scheduled", live_clause(now))
        .order_by(Article.published_at, Article.id).limit(limit + 1)))


def publish_due(session: Session, recommender: Recommender, *, limit: int = BATCH) -> DueReport:
    """Refresh the lists of every scheduled article now live and store it as published."""
    report = DueReport()
    with recommender.writing(session):  # the lock first: the check and the refresh are one step
        found = due(session, utcnow(), limit)
        report.remaining = len(found) > limit
        articles = found[:limit]
        if not articles:
            session.rollback()
            return report
        for article in articles:
            article.status = "published"
            session.add(AuditEntry(actor=ACTOR, action="article-went-live", article_id=article.id,
                                   reason="scheduled time reached",
                                   details={"external_id": article.external_id}))
        report.went_live = [a.external_id for a in articles]
        session.flush()
        refreshed = recommender.refresh(session, [a.id for a in articles])  # commits
        report.lists_updated = len(refreshed.lists_updated)
    return report
