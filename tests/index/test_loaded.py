"""A loaded build: vectors mapped from disk, search by article id, one article's vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.index.builds import IndexStore
from recommender.index.vectors import EXACT_SPEC
from tests.helpers.builds import build_vectors, write_build


def test_loaded_build_searches_and_maps_ids(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    meta = write_build(store, "b1")
    build = store.load("b1", verify=True)
    assert meta["index_kind"] == "flat" and build.meta["count"] == 50
    query = build.vector(100)
    assert query is not None
    sims, ids = build.search(query.reshape(1, -1), 3)
    assert ids[0][0] == 100 and sims[0][0] == pytest.approx(1.0, abs=1e-5)
    assert build.vector(999) is None


def test_vectors_are_mapped_from_the_build_directory(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    raw = build_vectors(seed=9)
    write_build(store, "smoothed", raw=raw)
    write_build(store, "plain")
    smoothed, plain = store.load("smoothed"), store.load("plain")
    assert isinstance(smoothed.vectors, np.memmap) and isinstance(smoothed.raw, np.memmap)
    assert np.array_equal(smoothed.vectors, build_vectors()) and np.array_equal(smoothed.raw, raw)
    assert plain.raw is plain.vectors  # nothing smoothed: the indexed vectors are the raw ones
    assert smoothed.directory == tmp_path / "builds" / "smoothed"
    assert smoothed.positions[100] == 0 and smoothed.positions[149] == 49


def test_an_articles_vector_is_a_copy(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "b1")
    build = store.load("b1")
    vector = build.vector(101)
    assert vector is not None and np.array_equal(vector, build.vectors[1])
    vector[:] = 0
    assert np.linalg.norm(build.vectors[1]) == pytest.approx(1.0, abs=1e-5)


def test_search_asks_for_no_more_than_the_build_holds(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "b1", n=6)
    build = store.load("b1")
    sims, ids = build.search(build_vectors(2, seed=4), 50)
    assert ids.shape == (2, 6) and sorted(ids[0]) == list(range(100, 106))
    assert np.all(np.diff(sims, axis=1) <= 1e-6)


def test_an_empty_build_finds_nothing(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    store.write("empty", np.zeros(0, dtype=np.int64), np.zeros((0, 16), dtype=np.float32),
                spec=EXACT_SPEC, meta={})
    build = store.load("empty", verify=True)
    sims, ids = build.search(build_vectors(3), 10)
    assert sims.shape == ids.shape == (3, 0)
    assert build.vectors.shape == (0, 16) and build.vector(100) is None
