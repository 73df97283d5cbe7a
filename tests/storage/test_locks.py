"""The build and writer locks: a busy file lock names its holder and is freed when the holder's
process dies; the writer lock serialises writers on SQLite and PostgreSQL, and on PostgreSQL also
across hosts (an advisory lock held until the writer's transaction ends)."""

from __future__ import annotations

import fcntl
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from recommender.storage.engine import make_session_factory
from recommender.storage.locks import (
    WRITER_ADVISORY_KEY,
    LockBusy,
    file_lock,
    scoped_transaction,
    writer_lock,
)
from recommender.storage.schema import Article

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from pathlib import Path
from recommender.storage.locks import file_lock

with file_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes stdin or kills us
"""


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``condition()`` until true (a bound against hanging, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


def test_a_busy_lock_names_its_holder_and_dies_with_it(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "reindex.lock"  # the directory is made on demand
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], env=env,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(LockBusy, match=f"reindex.lock is held by pid {holder.pid}$"), \
                    file_lock(path, blocking=False):
                pass
        finally:
            holder.send_signal(signal.SIGKILL)  # no clean exit: the kernel closes its descriptor
            holder.wait(30)
    with file_lock(path, blocking=False):
        assert path.read_text() == f"pid {os.getpid()}"  # the dead holder's pid is replaced


def test_a_holder_that_wrote_nothing_is_another_process(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another open file: a lock the module did not take
        with pytest.raises(LockBusy, match="held by another process"), \
                file_lock(path, blocking=False):
            pass
    finally:
        os.close(fd)
    with file_lock(path, blocking=False):
        pass


def test_the_lock_is_released_when_the_block_ends_even_by_an_error(tmp_path: Path) -> None:
    path = tmp_path / "writer.lock"
    with pytest.raises(RuntimeError), file_lock(path):
        raise RuntimeError("the writer failed")
    with file_lock(path, blocking=False):
        pass


def _add_counter(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        article = Article(external_id="counter", url="https://x.example/c", title="Counter",
                          content_hash="h", word_count=0)
        session.add(article)
        session.commit()
        return article.id


def test_the_writer_lock_serialises_two_writers(engine: Engine, tmp_path: Path) -> None:
    """Read-modify-write from two threads loses no update while each holds the writer lock
    (without it PostgreSQL loses updates and SQLite refuses the second writer)."""
    counter = _add_counter(engine)
    factory = make_session_factory(engine)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(5):
                with factory() as session, writer_lock(session, tmp_path):
                    value = session.scalar(select(Article.word_count).where(Article.id == counter))
                    time.sleep(0.01)  # widen the window another writer would slip into
                    session.execute(text("UPDATE articles SET word_count = :v WHERE id = :i"),
                                    {"v": (value or 0) + 1, "i": counter})
                    session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with factory() as session:
        assert session.scalar(select(Article.word_count).where(Article.id == counter)) == 10


def _holds_advisory(conn: Connection, pid: int, granted: bool = True) -> bool:
    return bool(conn.execute(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k "
        "AND pid = :pid AND granted = :g"), {"k": WRITER_ADVISORY_KEY, "pid": pid, "g": granted}
    ).scalar())


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_lock_lasts_until_the_transaction_ends(engine: Engine,
                                                                 tmp_path: Path) -> None:
    """Another host shares the database, not the lock file: the advisory lock is what stops it,
    and it must cover the caller's commit, not just the ``with`` block."""
    with make_session_factory(engine)() as session, engine.connect() as other:
        pid = session.scalar(text("SELECT pg_backend_pid()"))
        with writer_lock(session, tmp_path):
            assert _holds_advisory(other, pid)
            assert other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                {"k": WRITER_ADVISORY_KEY}) is False
            other.rollback()
        assert _holds_advisory(other, pid)  # the block ended, the transaction did not
        other.rollback()
        session.commit()
        assert not _holds_advisory(other, pid)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_on_postgresql_a_writer_waits_for_another_hosts_writer(engine: Engine,
                                                               tmp_path: Path) -> None:
    factory = make_session_factory(engine)
    pids: queue.Queue[int] = queue.Queue()
    order: list[str] = []

    def writer(session: Session) -> None:
        pids.put(session.scalar(text("SELECT pg_backend_pid()")))
        with writer_lock(session, tmp_path / "this-host"):
            order.append("writer in")
        session.commit()

    with engine.connect() as host, engine.connect() as watcher:
        host.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITER_ADVISORY_KEY})
        with factory() as session:
            thread = threading.Thread(target=writer, args=(session,))
            thread.start()
            pid = pids.get(timeout=30)

            def waiting() -> bool:
                watcher.rollback()  # a fresh snapshot of pg_locks each time
                return _holds_advisory(watcher, pid, granted=False)

            _wait_until(waiting, "the writer to queue behind the other host's lock")
            order.append("other host commits")
            host.commit()
            thread.join(60)
    assert order == ["other host commits", "writer in"]


def test_a_scoped_transaction_makes_check_then_write_atomic(engine: Engine) -> None:
    """Twenty threads each read a counter and write it back plus one inside the lock: without
    it they would read the same value and lose updates; with it none is lost."""
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
        session.commit()
    start = threading.Barrier(20)

    def bump(_: int) -> None:
        with factory() as session:
            start.wait()
            with scoped_transaction(session, "counter"):
                n = session.scalar(text("SELECT n FROM counter"))
                time.sleep(0.01)
                session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                session.commit()

    threads = [threading.Thread(target=bump, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with factory() as session:
        assert session.scalar(text("SELECT n FROM counter")) == 20


def test_a_scoped_transaction_rolls_back_on_error_and_refuses_pending_writes(
        sqlite_session: Session) -> None:
    with pytest.raises(ZeroDivisionError), scoped_transaction(sqlite_session, "x"):
        sqlite_session.execute(text("CREATE TABLE t (n INTEGER)"))
        raise ZeroDivisionError
    assert sqlite_session.execute(text(
        "SELECT name FROM sqlite_master WHERE name = 't'")).first() is None
    sqlite_session.execute(text("UPDATE users SET disabled = 0"))
    with pytest.raises(RuntimeError, match="uncommitted"), scoped_transaction(sqlite_session, "x"):
        pass
