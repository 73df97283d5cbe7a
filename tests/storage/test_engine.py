"""Engines and sessions: SQLite set up on every connection for a web server and a cron job at
once (foreign keys on, WAL, a busy timeout); PostgreSQL connections checked before use; objects
still readable after a commit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import Article, RelatedItem

PRAGMAS = {"foreign_keys": 1, "journal_mode": "wal", "synchronous": 1, "busy_timeout": 30000}


def _pragmas(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in PRAGMAS}


def test_every_sqlite_connection_gets_the_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'not' / 'yet' / 'there.db'}")
    try:
        with engine.connect() as first, engine.connect() as second:  # two pooled connections
            for conn in (first, second):
                got = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in PRAGMAS}
                assert got == PRAGMAS
        engine.dispose()  # a fresh connection after the pool is emptied
        assert _pragmas(engine) == PRAGMAS
        assert (tmp_path / "not" / "yet" / "there.db").is_file()  # its directory was made
    finally:
        engine.dispose()
    memory = make_engine("sqlite://")
    try:
        assert _pragmas(memory)["foreign_keys"] == 1  # no directory to make for :memory:
    finally:
        memory.dispose()


def test_sqlite_enforces_foreign_keys(sqlite_session: Session) -> None:
    sqlite_session.add(RelatedItem(article_id=12345, target_id=67890, position=1, score=0.5,
                                   build_id="b"))
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        sqlite_session.commit()


def test_a_reader_mid_transaction_does_not_block_a_writer_on_sqlite(sqlite_url: str) -> None:
    """WAL: the web app's open read does not stall the nightly job's commit (with SQLite's
    default journal the commit would wait out the 30 s busy timeout and fail)."""
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as reader, engine.connect() as writer:
            reader.exec_driver_sql("BEGIN")
            before = reader.scalar(select(func.count()).select_from(Article))
            writer.execute(Article.__table__.insert().values(  # type: ignore[attr-defined]
                external_id="w", url="https://x.example/w", title="W", dek="", body="",
                authors=[], tags=[], section="", content_type="news", language="en",
                status="published", word_count=0, content_hash="h"))
            writer.commit()
            # the reader still sees its snapshot, and the new row once its transaction ends
            assert reader.scalar(select(func.count()).select_from(Article)) == before
            reader.exec_driver_sql("COMMIT")
            assert reader.scalar(select(func.count()).select_from(Article)) == (before or 0) + 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_postgresql_connection_killed_in_the_pool_is_replaced(engine: Engine) -> None:
    """After a server restart or an idle timeout the pool holds dead connections; each is
    checked before use, so the next request works instead of failing once."""
    with engine.connect() as conn, engine.connect() as admin:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
        conn.commit()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    # both went back to the pool, the dead one with them; each checkout pings first
    with engine.connect() as conn, engine.connect() as second:
        assert second.scalar(text("SELECT 1")) == 1
        assert conn.scalar(text("SELECT pg_backend_pid()")) != pid
        assert conn.scalar(text("SELECT 1")) == 1


def test_objects_stay_loaded_after_commit(engine: Engine) -> None:
    """Views and commands read what they just wrote after committing, without a query that could
    see someone else's later change (expire_on_commit is off)."""
    factory = make_session_factory(engine)
    with factory() as session:
        article = Article(external_id="a", url="https://x.example/a", title="Before",
                          content_hash="h")
        session.add(article)
        session.commit()
        with engine.begin() as other:
            other.execute(text("UPDATE articles SET title = 'After' WHERE id = :i"),
                          {"i": article.id})
        assert article.title == "Before"
        session.refresh(article)
        assert article.title == "After"
