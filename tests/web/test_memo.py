"""The response memo: a data version that moves with every commit, and the LRU that trusts it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from recommender.storage.engine import make_engine
from web.memo import DataVersion, Rendered, ResponseMemo

VALUE = Rendered(body=b"{}", etag='"e"')


def test_version_moves_with_every_commit_by_anyone(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        version = DataVersion(engine, poll_seconds=0.0)  # PostgreSQL: read on every lookup
        assert version.supported
        first = version.current()
        with engine.connect() as conn:  # reads change nothing
            conn.execute(text("SELECT count(*) FROM t")).scalar()
        assert version.current() == first
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        second = version.current()
        assert second != first
        with engine.begin() as conn:
            conn.execute(text("UPDATE t SET x = 2"))
        assert version.current() not in (first, second)
    finally:
        engine.dispose()


def test_a_commit_elsewhere_is_seen_within_the_poll_and_ones_own_at_once(db_url: str) -> None:
    """PostgreSQL's version is polled (a round trip): another process's commit shows by the
    next poll, this process's (``touch``, after its sessions commit) at once. SQLite reads its
    version on every lookup, so both show at once."""
    engine, elsewhere = make_engine(db_url), make_engine(db_url)
    poll = 0.3
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        version = DataVersion(engine, poll_seconds=poll)
        first = version.current()
        with elsewhere.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        committed = time.monotonic()
        time.sleep(max(0.0, committed + poll - time.monotonic()))
        second = version.current()  # the poll's bound has passed: the commit must show
        assert second != first
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        version.touch()
        assert version.current() != second  # no waiting for the poll
    finally:
        engine.dispose()
        elsewhere.dispose()


def test_sqlite_versions_of_another_process_never_match(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    version = DataVersion(engine)
    before = version.current()
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a forked worker: a new connection
    after = version.current()
    assert after != before and after == version.current()
    engine.dispose()


def test_memory_databases_are_not_memoised() -> None:
    engine = make_engine("sqlite://")
    memo = ResponseMemo(DataVersion(engine), 10, 60)
    assert not memo.enabled and memo.version() is None
    memo.put("k", memo.version(), VALUE)
    assert memo.get("k", memo.version()) is None
    engine.dispose()


def test_entries_need_the_same_version_and_expire(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    memo = ResponseMemo(DataVersion(engine), 2, 60)
    version = memo.version()
    memo.put("a", version, VALUE)
    assert memo.get("a", version) is VALUE
    assert memo.get("a", (0, -1)) is None and len(memo) == 0  # a stale entry is dropped
    memo.put("a", version, VALUE)
    memo.put("b", version, VALUE)
    memo.put("c", version, VALUE)  # least recently used goes
    assert memo.get("a", version) is None and memo.get("c", version) is VALUE
    expired = ResponseMemo(DataVersion(engine), 2, -1)
    expired.put("a", version, VALUE)
    assert expired.get("a", version) is None
    off = ResponseMemo(DataVersion(engine), 0, 60)
    assert not off.enabled and off.version() is None
    engine.dispose()
