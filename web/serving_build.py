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


class UnreadableBuild(Exception):
    """``CURRENT`` names a build whose ``meta.json`` cannot be read or makes no sense."""


def current_build(store: IndexStore) -> BuildInfo | None:
    """The build named by ``CURRENT``, or None before the first build.

    A build that ``CURRENT`` names but whose ``meta.json`` is missing, unreadable, not JSON or
    not an object raises ``UnreadableBuild`` saying which and why: readiness must report a
    broken build as such, not as "no build yet" (nor crash on it).
    """
    try:
        build_id = store.current_id()
    except OSError as exc:
        raise UnreadableBuild(f"{store.current_file.name} unreadable: {_reason(exc)}") from exc
    if build_id is None:
        return None
    try:
        meta = json.loads((store.builds / build_id / META_FILE).read_text())
    except OSError as exc:
        raise UnreadableBuild(f"build {build_id} unreadable: {META_FILE}: {_reason(exc)}") from exc
    except ValueError as exc:  # not JSON, or not UTF-8
        raise UnreadableBuild(f"build {build_id} unreadable: {META_FILE} is not valid JSON "
                              f"({exc})") from exc
    if not isinstance(meta, dict):
        raise UnreadableBuild(f"build {build_id} unreadable: {META_FILE} is not a JSON object")
    created = meta.get("created")
    age = utc_age_seconds(created) if isinstance(created, str) else None
    count = meta.get("count") if isinstance(meta.get("count"), int) else None
    return BuildInfo(build_id, created if isinstance(created, str) else None, age, count)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__  # never the full path: /readyz is seen by proxies


def utc_age_seconds(created: str) -> float | None:
    """Seconds since an ISO 8601 timestamp (naive ones are UTC), or None when unparseable."""
    try:
        moment = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())
