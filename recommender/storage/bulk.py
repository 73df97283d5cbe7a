"""Writing every stored list of a build in bulk: ``COPY`` on PostgreSQL, batched inserts on SQLite.

A million-article build stores ten million list rows. Through the ORM (a dict per row, each
bound and type-processed by SQLAlchemy) that is most of an hour; ``COPY FROM STDIN`` streams them
in one statement, and SQLite's ``executemany`` of plain tuples takes a fraction of the ORM's time.
Both run inside the caller's transaction, so the swap stays all-or-nothing: readers see the old
lists until the commit (a DELETE, not a TRUNCATE, which would block them for the whole write).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from recommender.storage.schema import RelatedItem

COLUMNS = ("article_id", "target_id", "position", "score", "signals", "fallback", "build_id",
           "computed")
SQLITE_BATCH = 20_000
# (page, target, position, score, signals, fallback), as ranking.lists.block_rows gives them
Row = tuple[int, int, int, float, dict[str, Any], bool]


def replace_all_lists(session: Session, blocks: Iterable[Sequence[Row]], build_id: str,
                      computed: datetime, *, progress: Callable[[int], None] | None = None
                      ) -> int:
    """Replace every stored list row by these (caller commits); returns the rows written."""
    session.execute(delete(RelatedItem))
    naive = computed.astimezone(UTC).replace(tzinfo=None)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _copy(connection.connection.driver_connection, blocks, build_id, naive, progress)
    sql = (f"INSERT INTO {RelatedItem.__tablename__} ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in COLUMNS)})")
    stamp = naive.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's own SQLite format
    written = 0
    pending: list[tuple[Any, ...]] = []
    for block in blocks:
        pending.extend((a, t, p, s, json.dumps(g), int(f), build_id, stamp)
                       for a, t, p, s, g, f in block)
        if len(pending) >= SQLITE_BATCH:
            written += _flush(connection, sql, pending, progress)
    return written + _flush(connection, sql, pending, progress)


def _flush(connection: Any, sql: str, pending: list[tuple[Any, ...]],
           progress: Callable[[int], None] | None) -> int:
    count = len(pending)
    if count:
        connection.exec_driver_sql(sql, pending)
        pending.clear()
        if progress:
            progress(count)
    return count


def _copy(raw: Any, blocks: Iterable[Sequence[Row]], build_id: str, computed: datetime,
          progress: Callable[[int], None] | None) -> int:
    written = 0
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {RelatedItem.__tablename__} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for block in blocks:
            for a, t, p, s, g, f in block:
                copy.write_row((a, t, p, s, json.dumps(g), f, build_id, computed))
            written += len(block)
            if progress:
                progress(len(block))
    return written
