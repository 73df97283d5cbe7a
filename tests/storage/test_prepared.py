"""Prepared statements on the driver's cursor: the same rows, typed the same way, as SQLAlchemy's
own execution, on SQLite and PostgreSQL, inside a connection's transaction or on a pooled one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, bindparam, literal, select

from recommender.storage.prepared import Prepared
from recommender.storage.schema import Article, UTCDateTime, utcnow

STATEMENT = (select(Article.id, Article.external_id, Article.authors, Article.published_at)
             .where(Article.status.in_([literal("published")]),
                    Article.published_at <= bindparam("now", type_=UTCDateTime()),
                    Article.section == bindparam("section"))
             .order_by(Article.id).limit(bindparam("k")))


def _add(engine: Engine) -> None:
    with engine.begin() as conn:
        now = utcnow()
        conn.execute(Article.__table__.insert(), [
            {"external_id": f"a{i}", "url": f"https://site.example/{i}", "title": f"T{i}",
             "dek": "", "body": "", "authors": ["Ann", f"Bo {i}"], "tags": [], "section": "World",
             "content_type": "news", "language": "en", "word_count": 0,
             "status": "published" if i != 2 else "draft",
             "published_at": now - timedelta(hours=i) if i != 3 else now + timedelta(days=1),
             "content_hash": "x", "created": now, "modified": now} for i in range(6)])


def test_rows_match_sqlalchemys_own_execution(engine: Engine) -> None:
    _add(engine)
    prepared = Prepared(STATEMENT)
    params = {"now": utcnow(), "section": "World", "k": 3}
    with engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(STATEMENT, params)]
        inside = prepared.rows(conn, **params)
    pooled = prepared.rows(engine, **params)
    assert [tuple(row) for row in inside] == [tuple(row) for row in pooled] == expected
    assert [row.external_id for row in pooled] == ["a0", "a1", "a4"]  # no draft, no future
    first = pooled[0]
    assert first.authors == ["Ann", "Bo 0"]  # JSON decoded
    assert first.published_at.tzinfo is not None  # UTC-aware, as the ORM returns it
    assert prepared.rows(engine, now=utcnow(), section="Sport", k=3) == []


def test_a_statement_is_compiled_once_per_dialect(engine: Engine) -> None:
    prepared = Prepared(STATEMENT)
    first = prepared.compiled(engine.dialect)
    assert prepared.compiled(engine.dialect) is first
    assert "now" in first.binds and "k" in first.binds and "section" in first.binds
    assert "published" in first.constants.values()
