"""The vector-index interface with random unit vectors (no model): what any backend must do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.index.factory import build_index, load_index, new_index
from recommender.index.vectors import (
    EXACT_SPEC,
    HNSW_SPEC,
    IndexSpec,
    VectorIndexError,
    choose_index,
    ivf_spec,
)
from tests.helpers.vectors import clustered_vectors, recall, unit_vectors


def test_exact_up_to_the_threshold_hnsw_past_it() -> None:
    assert choose_index(1000, exact_max=1000) == EXACT_SPEC
    assert choose_index(1001, exact_max=1000) == HNSW_SPEC
    assert choose_index(0, exact_max=0) == EXACT_SPEC
    assert build_index(unit_vectors(5), choose_index(5, exact_max=4)).kind == "hnsw"


def test_an_inverted_file_past_the_hnsw_threshold() -> None:
    assert choose_index(2000, exact_max=1000, hnsw_max=2000) == HNSW_SPEC
    spec = choose_index(1_000_000, exact_max=1000, hnsw_max=2000)
    assert spec.kind == "ivf" and spec.params["factory"] == "IVF4096,Flat"
    assert choose_index(10**7, exact_max=1000) == HNSW_SPEC  # no threshold: never IVF


def test_inverted_file_recall_on_clustered_vectors(tmp_path: Path) -> None:
    vectors = clustered_vectors(4000)
    queries = vectors[:300]
    _, truth = build_index(vectors, EXACT_SPEC).search(queries, 10)
    ivf = build_index(vectors, ivf_spec(len(vectors)))
    assert ivf.kind == "ivf" and len(ivf) == 4000
    assert recall(truth, ivf.search(queries, 10)[1]) > 0.95
    ivf.save(tmp_path / "ivf.bin")
    mapped = load_index(tmp_path / "ivf.bin", mmap=True)  # nprobe is saved with it
    assert np.array_equal(mapped.search(queries, 10)[1], ivf.search(queries, 10)[1])


@pytest.mark.parametrize("spec", [EXACT_SPEC, HNSW_SPEC, ivf_spec(3000)],
                         ids=["flat", "hnsw", "ivf"])
def test_replaced_vectors_are_searched_in_the_same_structure(spec: IndexSpec) -> None:
    """Smoothing searches the raw vectors, the lists the smoothed ones: one index serves both,
    and searching it after the swap finds what an index built on the new vectors finds."""
    raw = clustered_vectors(3000, seed=5)
    moved = raw + 0.05 * unit_vectors(3000, seed=6)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    index = build_index(raw, spec)
    index.replace_vectors(moved)
    assert len(index) == 3000
    _, truth = build_index(moved, EXACT_SPEC).search(moved[:200], 10)
    sims, found = index.search(moved[:200], 10)
    assert recall(truth, found) > 0.95
    assert np.allclose(sims[:, 0], 1.0, atol=1e-5)  # each finds its own new vector
    with pytest.raises(VectorIndexError, match="cannot replace"):
        index.replace_vectors(moved[:10])


def test_exact_search_returns_the_true_top_k() -> None:
    vectors, queries = unit_vectors(500, seed=1), unit_vectors(40, seed=2)
    index = build_index(vectors, EXACT_SPEC)
    sims, positions = index.search(queries, 10)
    brute = queries @ vectors.T
    truth = np.argsort(-brute, axis=1)[:, :10]
    assert index.kind == "flat" and len(index) == 500 and index.dimension == 32
    assert sims.dtype == np.float32 and positions.dtype == np.int64
    assert np.array_equal(positions, truth)
    assert np.allclose(sims, np.take_along_axis(brute, truth, axis=1), atol=1e-5)


def test_hnsw_recall_against_exact_is_high_on_clustered_vectors() -> None:
    vectors = clustered_vectors(3000)
    queries = vectors[:300]
    _, truth = build_index(vectors, EXACT_SPEC).search(queries, 10)
    hnsw = build_index(vectors, HNSW_SPEC)
    sims, found = hnsw.search(queries, 10)
    assert hnsw.kind == "hnsw"
    assert recall(truth, found) > 0.95
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # best first


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize("spec", [EXACT_SPEC, HNSW_SPEC], ids=["flat", "hnsw"])
def test_save_and_load_give_the_same_index(tmp_path: Path, spec: IndexSpec, mmap: bool) -> None:
    vectors = clustered_vectors(800, seed=3)
    built = build_index(vectors, spec)
    built.save(tmp_path / "index.bin")
    loaded = load_index(tmp_path / "index.bin", mmap=mmap)
    assert (loaded.kind, len(loaded), loaded.dimension) == (built.kind, 800, 32)
    queries = unit_vectors(30, seed=4)
    for got, want in zip(loaded.search(queries, 7), built.search(queries, 7), strict=True):
        assert np.array_equal(got, want)
    assert np.array_equal(loaded.reconstruct(), vectors)


def test_add_appends_at_the_next_positions() -> None:
    vectors = unit_vectors(300, seed=5)
    index = build_index(vectors[:100], EXACT_SPEC)
    index.add(vectors[100:])
    assert len(index) == 300
    whole = build_index(vectors, EXACT_SPEC)
    queries = unit_vectors(20, seed=6)
    for got, want in zip(index.search(queries, 5), whole.search(queries, 5), strict=True):
        assert np.array_equal(got, want)
    _, own = index.search(vectors[250:251], 1)
    assert own[0, 0] == 250


@pytest.mark.parametrize("spec", [EXACT_SPEC, HNSW_SPEC], ids=["flat", "hnsw"])
def test_an_empty_index_finds_nothing(spec: IndexSpec) -> None:
    index = build_index(np.zeros((0, 16), dtype=np.float32), spec)
    assert len(index) == 0 and index.dimension == 16
    sims, positions = index.search(unit_vectors(3, 16), 5)
    assert positions.shape == (3, 5) and np.all(positions == -1)
    assert np.all(np.isneginf(sims))
    assert index.reconstruct().shape == (0, 16)
    assert new_index(spec, 16).search(unit_vectors(2, 16), 0)[1].shape == (2, 0)


@pytest.mark.parametrize("spec", [EXACT_SPEC, HNSW_SPEC], ids=["flat", "hnsw"])
def test_k_larger_than_the_index_pads_with_minus_one(spec: IndexSpec) -> None:
    vectors = unit_vectors(4, seed=7)
    sims, positions = build_index(vectors, spec).search(vectors[:2], 10)
    assert positions.shape == (2, 10)
    assert sorted(positions[0, :4]) == [0, 1, 2, 3] and positions[0, 0] == 0
    assert np.all(positions[:, 4:] == -1) and np.all(np.isneginf(sims[:, 4:]))
    assert np.all(np.isfinite(sims[:, :4]))


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    index = build_index(unit_vectors(10, 8), EXACT_SPEC)
    with pytest.raises(VectorIndexError, match="dimension 8"):
        index.search(unit_vectors(2, 9), 3)
    with pytest.raises(VectorIndexError, match="dimension 8"):
        index.add(unit_vectors(2, 9))
    with pytest.raises(VectorIndexError, match="negative"):
        index.search(unit_vectors(2, 8), -1)
    with pytest.raises(VectorIndexError, match="unknown index kind 'annoy'"):
        new_index(IndexSpec("annoy"), 8)
    with pytest.raises(VectorIndexError, match="not an inverted-file spec"):
        new_index(IndexSpec("ivf", {"factory": "IVF-nonsense"}), 8)


def test_a_memory_mapped_index_is_read_only(tmp_path: Path) -> None:
    vectors = unit_vectors(50, 8)
    build_index(vectors, EXACT_SPEC).save(tmp_path / "index.bin")
    mapped = load_index(tmp_path / "index.bin", mmap=True)
    with pytest.raises(VectorIndexError, match="read-only"):
        mapped.add(vectors[:1])
    assert len(mapped) == 50  # refused before anything changed
    copied = load_index(tmp_path / "index.bin", mmap=False)
    copied.add(vectors[:1])
    assert len(copied) == 51
