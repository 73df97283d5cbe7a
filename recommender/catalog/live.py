"""What "live" means: the article a reader may see now, in Python and in SQL, and what editors call it.

Readers must never see a draft, a withdrawn article or one whose time has not come, whether the
check runs in a query (the readers' path, the demo), over loaded rows (the ranker's catalogue) or on
one article (the editors' page). Every one of those asks this module, so the rule cannot drift:
the predicate is ``storage.schema.live_at`` (storage is the lowest layer and the ORM's
``Article.is_live`` delegates to it), and the SQL clause below is built from the same
``LIVE_STATUSES``; tests/catalog/test_live.py checks that both give the same answer on SQLite and
PostgreSQL for every status at every moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal

from recommender.storage.schema import LIVE_STATUSES, Article, live_at, utcnow

__all__ = ["LIVE_STATUSES", "live_at", "live_clause", "status_of"]


def live_clause(now: datetime, entity: Any = Article) -> ColumnElement[bool]:
    """SQL condition for ``live_at`` (on Article or an alias of it, as the readers' join needs)."""
    # One bound value per status, not an "expanding" IN: no per-execution rewriting of the SQL
    # (it showed in the readers' path, which runs this on every uncached read).
    statuses = [literal(status) for status in LIVE_STATUSES]
    return (entity.status.in_(statuses) & entity.published_at.is_not(None)  # type: ignore[no-any-return]
            & (entity.published_at <= now))


def status_of(article: Article, now: datetime | None = None) -> str:
    """The status as readers experience it, which is what editors need to see.

    A live article is 'published' (a scheduled one whose time has come included: nothing rewrites
    its stored status when it goes live), one waiting for its date is 'scheduled', anything else
    keeps its stored status.
    """
    moment = now or utcnow()
    if live_at(article.status, article.published_at, moment):
        return "published"
    if article.status in LIVE_STATUSES and article.published_at is not None:
        return "scheduled"
    return article.status
