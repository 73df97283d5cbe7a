"""A small in-process memo of rendered related lists, invalidated by any database commit.

Building one list costs a fraction of a millisecond to milliseconds; serving a memoised one costs
microseconds. Correctness rests on a *data version* read before the list is built: an entry is
served only while the version is unchanged, i.e. while nothing at all has been committed to the
database, by any process or code path (ORM, raw SQL, the CLI, another worker, another replica).

- SQLite: ``PRAGMA data_version`` on a private connection that never writes changes whenever any
  other connection commits. Read on every lookup (it costs microseconds, in process).
- PostgreSQL: the text of ``pg_current_snapshot()`` (xmin:xmax:in-progress ids) changes whenever a
  writing transaction ends, in any process on any host; equal snapshots see exactly the same
  committed data. It costs a round trip, so it is *polled*: read at most once per
  ``poll_seconds`` (default 0.25 s) per process, and at once after this process commits
  (``touch``, hooked to the app's sessions). A commit anywhere therefore reaches every replica's
  readers within ``poll_seconds``: a lookup uses a snapshot whose query *started* less than
  ``poll_seconds`` before it, and data read after a snapshot is never older than the snapshot.
  Any write in the cluster changes it (other databases, feedback events): that only empties
  the memo sooner, it never serves a stale list.
- Anything else: no memo.

Time also matters (a scheduled article goes live, a pin or block expires). The passing of time only
ever *adds* items a reader may see (liveness and expiry are monotonic) or drops an expired pin of
a still-live item, never exposes an unpublished or blocked one, so entries simply expire after
``RESPONSE_CACHE_SECONDS`` (default: the ``Cache-Control`` max-age, the lag browsers and CDNs
already allow).

Every commit empties the memo for every list, so it pays off between writes (a magazine publishes
a few dozen times a day); HTTP caching (ETag, ``stale-while-revalidate``) does the rest.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import Engine, text


@dataclass(frozen=True, slots=True)
class Rendered:
    """One representation of one list, ready to send."""

    body: bytes
    etag: str


class DataVersion:
    """A value that changes whenever anything is committed to the database (or None: unknown)."""

    def __init__(self, engine: Engine, poll_seconds: float = 0.25) -> None:
        self._engine = engine
        self._poll_seconds = poll_seconds
        self._generation = 0  # this process's commits (``touch``)
        self._polled: tuple[int, str] | None = None  # (generation, snapshot) of the last poll
        self._polled_at = 0.0  # monotonic time the last poll *started*
        self._dialect = engine.dialect.name
        database = engine.url.database or ""
        self._sqlite_path = database if self._dialect == "sqlite" and database not in (
            "", ":memory:") and not database.startswith("file:") else ""
        # One connection for the process: data_version values are comparable only within a
        # connection, so per-thread connections would let a stale entry match a later version.
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._inherited: list[sqlite3.Connection] = []

    @property
    def supported(self) -> bool:
        return bool(self._sqlite_path) or self._dialect == "postgresql"

    def current(self) -> Hashable | None:
        if self._sqlite_path:
            return self._sqlite_version()
        if self._dialect == "postgresql":
            return self._polled_snapshot()
        return None

    def touch(self) -> None:
        """This process committed: the next lookup reads a fresh version, without waiting for the
        poll (so a webhook's caller reads its own write from the same replica at once)."""
        with self._lock:
            self._generation += 1

    def _polled_snapshot(self) -> tuple[int, str]:
        # Under the lock: one poll at a time per process; the others wait the millisecond it
        # takes rather than use a snapshot older than the bound.
        with self._lock:
            started = time.monotonic()
            polled = self._polled
            if (polled is not None and polled[0] == self._generation
                    and started - self._polled_at < self._poll_seconds):
                return polled
            generation = self._generation
            with self._engine.connect() as conn:
                snapshot: str = conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
            self._polled, self._polled_at = (generation, snapshot), started
            return self._polled

    def _sqlite_version(self) -> tuple[int, int]:
        # data_version counts per connection: the pid says whose connection it was, so an entry
        # memoised by gunicorn's master before the fork can never match a worker's count.
        with self._lock:
            if self._conn is None or self._pid != os.getpid():  # never reuse one across a fork
                if self._conn is not None:
                    # Kept open on purpose: closing an inherited SQLite connection in the child
                    # can drop the file locks that belong to the parent's descriptors.
                    self._inherited.append(self._conn)
                self._conn = sqlite3.connect(self._sqlite_path, isolation_level=None,
                                             check_same_thread=False)
                self._pid = os.getpid()
            row = self._conn.execute("PRAGMA data_version").fetchone()
            return self._pid, int(row[0])


@dataclass(slots=True)
class _Entry:
    version: Hashable
    expires: float
    value: Rendered


class ResponseMemo:
    """LRU of ``Rendered`` by key, valid only for the data version it was built under."""

    def __init__(self, version: DataVersion, max_entries: int, max_age: float) -> None:
        self._version = version
        self._max_entries = max_entries if version.supported else 0
        self._max_age = max_age
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._max_entries > 0

    def version(self) -> Hashable | None:
        """Read *before* building a value, so a commit racing with the build invalidates it."""
        return self._version.current() if self.enabled else None

    def get(self, key: Hashable, version: Hashable | None) -> Rendered | None:
        if version is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or entry.expires < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(self, key: Hashable, version: Hashable | None, value: Rendered) -> None:
        if version is None:
            return
        with self._lock:
            self._entries[key] = _Entry(version, time.monotonic() + self._max_age, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
