"""The serving build for long-lived processes: follows CURRENT, loads each build once."""

from __future__ import annotations

from pathlib import Path

from recommender.index.builds import IndexStore
from recommender.index.cache import BuildCache
from recommender.index.loaded import LoadedBuild
from tests.helpers.builds import write_build


def test_readers_pick_up_a_new_build_without_restart(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    cache = BuildCache(store, store.load)
    assert cache.get() is None
    write_build(store, "b1")
    store.flip("b1")
    first = cache.get()
    assert first is not None and first.build_id == "b1" and cache.get() is first
    write_build(store, "b2", seed=1)
    store.flip("b2")
    second = cache.get()
    assert second is not None and second.build_id == "b2"


def test_each_build_is_loaded_once_with_the_given_loader(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    loaded: list[str] = []

    def load(build_id: str) -> LoadedBuild:
        loaded.append(build_id)
        return store.load(build_id)

    cache = BuildCache(store, load)
    write_build(store, "b1")
    store.flip("b1")
    for _ in range(3):
        cache.get()
    write_build(store, "b2")
    store.flip("b2")
    cache.get()
    store.flip("b1")  # a rollback to an older build loads it again
    build = cache.get()
    assert loaded == ["b1", "b2", "b1"] and build is not None and build.build_id == "b1"
