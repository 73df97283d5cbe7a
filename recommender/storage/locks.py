"""Locks that keep one index builder and one list writer at a time.

The nightly build holds the *build* lock for its whole run (a second run exits at once); list
writers (publish, curation, the build's final swap) hold the short *writer* lock. File locks work
for one host; on PostgreSQL a transaction-scoped advisory lock also serialises writers across hosts.
``scoped_transaction`` serialises short check-then-write transactions on one key (the sign-in limit).
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

WRITER_ADVISORY_KEY = 0x52454C41  # "RELA"


class LockBusy(RuntimeError):
    """Another process holds the lock."""


@contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise LockBusy(f"{path} is held by {holder}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock, also when the process is killed


@contextmanager
def writer_lock(session: Session, lock_dir: Path) -> Iterator[None]:
    """Serialise list writers; held until the caller's transaction ends (commit it inside)."""
    with file_lock(lock_dir / "writer.lock"):
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITER_ADVISORY_KEY})
        yield


SCOPED_ADVISORY_KEY = 0x53434F50  # "SCOP": the first half of a scoped lock's PostgreSQL key


def _scope_key(scope: str) -> int:
    """A stable signed 32-bit number for ``scope`` (PostgreSQL's two-key advisory locks)."""
    value = zlib.crc32(scope.encode("utf-8", errors="surrogatepass"))
    return value - 2**32 if value >= 2**31 else value


@contextmanager
def scoped_transaction(session: Session, scope: str) -> Iterator[None]:
    """Begin the session's transaction holding a lock on ``scope`` until it ends.

    For check-then-write sequences that must not interleave across threads, workers and hosts
    (the sign-in limit: count the recent failures, then record one). SQLite has no finer lock than
    the database's write lock, so the transaction starts with ``BEGIN IMMEDIATE`` (it waits for,
    then excludes, every other writer); PostgreSQL takes a transaction-scoped advisory lock on
    the scope, so unrelated scopes do not wait. The caller commits (or rolls back) inside the
    block; an exception rolls back. The session must have no uncommitted writes.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if getattr(driver, "in_transaction", False):
            raise RuntimeError("scoped_transaction needs a session with no uncommitted writes")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k, :s)"),
                        {"k": SCOPED_ADVISORY_KEY, "s": _scope_key(scope)})
    try:
        yield
    except BaseException:
        session.rollback()
        raise
