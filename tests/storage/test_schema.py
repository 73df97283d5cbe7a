"""Constraints the database itself enforces, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recommender.storage.schema import Article, Curation, Embedding, RelatedItem


def _article(n: int, **kw: object) -> Article:
    values: dict[str, object] = {
        "external_id": f"a{n}", "url": f"https://x.example/{n}", "title": f"T{n}",
        "content_hash": "h", "published_at": datetime(2025, 1, 1, tzinfo=UTC),
    }
    values.update(kw)
    return Article(**values)


def test_round_trip_keeps_lists_and_aware_datetimes(session: Session) -> None:
    a = _article(1, authors=["Anika Rao"], tags=["india", "russia"])
    session.add(a)
    session.commit()
    session.expunge_all()
    stored = session.scalars(select(Article)).one()
    assert stored.authors == ["Anika Rao"]
    assert stored.tags == ["india", "russia"]
    assert stored.published_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert stored.published_at.tzinfo is not None
    assert stored.is_live()


def test_liveness() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    assert _article(1, status="published").is_live(now)
    assert not _article(1, status="draft").is_live(now)
    assert not _article(1, status="unpublished").is_live(now)
    future = now + timedelta(days=1)
    assert not _article(1, status="scheduled", published_at=future).is_live(now)
    assert _article(1, status="scheduled", published_at=future).is_live(future)


@pytest.mark.parametrize("field", ["external_id", "url"])
def test_unique_ids_and_urls(session: Session, field: str) -> None:
    session.add(_article(1))
    session.commit()
    dup = _article(2, **{field: getattr(_article(1), field)})
    session.add(dup)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_status_check_constraint(session: Session) -> None:
    session.add(_article(1, status="deleted"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_pin_needs_position_and_article(session: Session) -> None:
    a, b = _article(1), _article(2)
    session.add_all([a, b])
    session.commit()
    session.add(Curation(kind="pin", article_id=a.id, target_id=b.id, position=None,
                         created_by="ed"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(Curation(kind="pin", article_id=None, target_id=b.id, position=1,
                         created_by="ed"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(Curation(kind="block", article_id=None, target_id=b.id, created_by="ed"))
    session.commit()


def test_related_list_constraints_and_cascade(session: Session) -> None:
    a, b, c = _article(1), _article(2), _article(3)
    session.add_all([a, b, c])
    session.flush()
    session.add_all([
        RelatedItem(article_id=a.id, target_id=b.id, position=1, score=0.9, build_id="b1"),
        RelatedItem(article_id=a.id, target_id=c.id, position=2, score=0.8, build_id="b1"),
        Embedding(article_id=a.id, model_id="m", content_hash="h", dimension=2,
                  vector=b"\x00" * 8),
    ])
    session.commit()
    session.add(RelatedItem(article_id=a.id, target_id=c.id, position=3, score=0.1,
                            build_id="b1"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.delete(session.get(Article, b.id))
    session.commit()
    session.expire_all()
    assert [r.target_id for r in session.scalars(select(RelatedItem))] == [c.id]
    session.delete(session.get(Article, a.id))
    session.commit()
    assert session.scalars(select(RelatedItem)).all() == []
    assert session.scalars(select(Embedding)).all() == []
