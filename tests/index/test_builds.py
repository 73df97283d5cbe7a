"""Index builds on disk with random vectors (no model): atomic flips, pruning, loading, HNSW."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding.encoder import normalize_rows
from recommender.index.builds import BuildCache, BuildError, IndexStore
from recommender.ranking.lexical import LexicalModel


def _write(store: IndexStore, build_id: str, n: int = 50, exact_max: int = 1000,
           seed: int = 0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, 16))
    vectors = normalize_rows(centres[rng.integers(5, size=n)] + 0.3 * rng.normal(size=(n, 16)))
    texts = [f"story {i} about topic {i % 5}" for i in range(n)]
    lexical = LexicalModel.fit(texts)
    return store.write(build_id, np.arange(100, 100 + n, dtype=np.int64), vectors,
                       lexical=lexical, lexical_matrix=lexical.transform(texts), tag_idf={"a": 1.0},
                       meta={"model_id": "m"}, exact_max=exact_max)


def test_write_is_invisible_until_flipped(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    _write(store, "b1")
    assert store.current_id() is None  # written but not flipped: nothing serves it
    store.flip("b1")
    assert store.current_id() == "b1"
    _write(store, "b2")
    assert store.current_id() == "b1"  # a crash here leaves b1 serving
    with pytest.raises(BuildError, match="not complete"):
        store.flip("missing")


def test_loaded_build_searches_and_maps_ids(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    meta = _write(store, "b1")
    build = store.load("b1", verify=True)
    assert meta["index_kind"] == "flat" and build.meta["count"] == 50
    query = build.vector(100)
    assert query is not None
    sims, ids = build.search(query.reshape(1, -1), 3)
    assert ids[0][0] == 100 and sims[0][0] == pytest.approx(1.0, abs=1e-5)
    assert build.vector(999) is None


def test_corrupt_build_is_refused(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    _write(store, "b1")
    with (tmp_path / "builds" / "b1" / "ids.npy").open("r+b") as fh:
        fh.seek(-1, os.SEEK_END)
        fh.write(b"\x7f")
    with pytest.raises(BuildError, match="checksum"):
        store.load("b1", verify=True)


def test_prune_keeps_newest_and_serving(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    for i in range(5):
        _write(store, f"b{i}")
    store.flip("b0")
    (tmp_path / "builds" / ".tmp-dead").mkdir()
    removed = store.prune(keep=2)
    left = sorted(p.name for p in (tmp_path / "builds").iterdir())
    assert left == ["b0", "b3", "b4"] and sorted(removed) == ["b1", "b2"]


def test_readers_pick_up_a_new_build_without_restart(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    cache = BuildCache(store)
    assert cache.get() is None
    _write(store, "b1")
    store.flip("b1")
    first = cache.get()
    assert first is not None and first.build_id == "b1" and cache.get() is first
    _write(store, "b2", seed=1)
    store.flip("b2")
    second = cache.get()
    assert second is not None and second.build_id == "b2"


def test_hnsw_above_the_exact_threshold_with_good_recall(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    _write(store, "exact", n=2000, exact_max=10_000)
    meta = _write(store, "hnsw", n=2000, exact_max=100)
    assert meta["index_kind"] == "hnsw"
    exact, approx = store.load("exact"), store.load("hnsw")
    queries = exact.vectors[:200]
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall > 0.9
