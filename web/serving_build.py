"""The serving index build as readiness and the metrics see it: its id, age and size.

Both ``web.health`` (``/readyz``) and ``web.metrics`` (the build-age gauge) read it, so it lives
apart from either; they used to import each other for it. Only ``meta.json`` is read, never the
FAISS index: readers' lists come from SQL, so a web worker has no reason to map the index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from recommender.index.builds import META_FILE, IndexStore


@dataclass(frozen=True)
class BuildInfo:
    """The serving build as readiness and metrics report it."""

    build_id: str
    created: str | None
    age_seconds: float | None
    count: int | None


def current_build(store: IndexStore) -> BuildInfo | None:
    """The build named by ``CURRENT`` if its directory is complete, else None."""
    build_id = store.current_id()
    if build_id is None:
        return None
    try:
        meta = json.loads((store.builds / build_id / META_FILE).read_text())
    except (OSError, ValueError):
        return None
    created = meta.get("created") if isinstance(meta, dict) else None
    age = utc_age_seconds(created) if isinstance(created, str) else None
    count = meta.get("count") if isinstance(meta.get("count"), int) else None
    return BuildInfo(build_id, created if isinstance(created, str) else None, age, count)


def utc_age_seconds(created: str) -> float | None:
    """Seconds since an ISO 8601 timestamp (naive ones are UTC), or None when unparseable."""
    try:
        moment = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())
