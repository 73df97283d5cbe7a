"""Locks that keep one index builder and one list writer at a time.

The nightly build holds the *build* lock for its whole run (a second run exits at once); list
writers (publish, curation, the build's final swap) hold the short *writer* lock. File locks work
for one host; on PostgreSQL a transaction-scoped advisory lock also serialises writers across hosts.
"""

from __future__ import annotations

import fcntl
import os
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
