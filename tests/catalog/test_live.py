"""The one definition of "live": the predicate, the SQL clause and the ORM method agree everywhere,
and the status editors see follows the same rule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from recommender.catalog.live import LIVE_STATUSES, live_at, live_clause, status_of
from recommender.storage.schema import STATUSES, Article

NOW = datetime(2025, 6, 1, 12, 0, 0, 500_000, tzinfo=UTC)
# around the boundary, to the microsecond: SQLite compares stored text, PostgreSQL timestamps
DATES: list[datetime | None] = [
    None,
    NOW - timedelta(days=400),
    NOW - timedelta(microseconds=1),
    NOW,
    NOW + timedelta(microseconds=1),
    NOW + timedelta(days=3),
]
MOMENTS = [NOW - timedelta(days=1), NOW, NOW + timedelta(microseconds=1), NOW + timedelta(days=5)]


def _grid(session: Session) -> list[Article]:
    """One stored article for every status and date."""
    rows = [Article(external_id=f"a{n}", url=f"https://x.example/{n}", title=f"T{n}",
                    content_hash="h", status=status, published_at=published)
            for n, (status, published) in enumerate(itertools.product(STATUSES, DATES))]
    session.add_all(rows)
    session.commit()
    return rows


def test_predicate_sql_clause_and_orm_method_agree(session: Session) -> None:
    rows = _grid(session)
    for moment in MOMENTS:
        in_python = {a.id for a in rows if live_at(a.status, a.published_at, moment)}
        in_sql = set(session.scalars(select(Article.id).where(live_clause(moment))))
        assert in_sql == in_python, moment
        assert {a.id for a in rows if a.is_live(moment)} == in_python
        alias = aliased(Article)  # the readers' join filters an alias of Article
        assert set(session.scalars(select(alias.id).where(live_clause(moment, alias)))) == in_sql
    assert session.scalars(select(Article.id).where(live_clause(NOW))).first() is not None


def test_what_is_live() -> None:
    past, future = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    assert set(LIVE_STATUSES) == {"published", "scheduled"}
    assert live_at("published", past, NOW) and live_at("published", NOW, NOW)
    assert live_at("scheduled", past, NOW)  # a scheduled article goes live when its time comes
    assert not live_at("published", future, NOW)
    assert not live_at("scheduled", future, NOW)
    assert not live_at("published", None, NOW)
    assert not live_at("draft", past, NOW) and not live_at("unpublished", past, NOW)


def test_status_of_is_what_readers_experience() -> None:
    def status(stored: str, published: datetime | None) -> str:
        return status_of(Article(status=stored, published_at=published), NOW)

    past, future = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    assert status("published", past) == "published"
    assert status("published", future) == "scheduled"
    assert status("scheduled", future) == "scheduled"
    assert status("scheduled", past) == "published"  # went live; nothing rewrote its status
    assert status("draft", past) == "draft"
    assert status("unpublished", past) == "unpublished"
    assert status("scheduled", None) == "scheduled"


def test_status_of_agrees_with_liveness_on_every_status_and_date() -> None:
    for stored, published, moment in itertools.product(STATUSES, DATES, MOMENTS):
        article = Article(status=stored, published_at=published)
        live = live_at(stored, published, moment)
        assert (status_of(article, moment) == "published" and published is not None) == live
