"""The serving build for long-lived processes: reloaded when ``CURRENT`` changes, no restart."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from recommender.index.builds import IndexStore
from recommender.index.loaded import LoadedBuild

B = TypeVar("B", bound=LoadedBuild)


class BuildCache(Generic[B]):
    """Holds the build ``CURRENT`` names, loaded by ``load`` (the store's own, or one that also
    reads another package's files, e.g. ``ranking.build_data.RankingBuild.open``)."""

    def __init__(self, store: IndexStore, load: Callable[[str], B]) -> None:
        self._store = store
        self._load = load
        self._build: B | None = None
        self._lock = threading.Lock()

    def get(self) -> B | None:
        current = self._store.current_id()
        if current is None:
            return None
        build = self._build
        if build is not None and build.build_id == current:
            return build
        with self._lock:
            if self._build is None or self._build.build_id != current:
                self._build = self._load(current)
            return self._build
