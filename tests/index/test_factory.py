"""Making and loading indexes: ``new_index`` is empty, ``build_index`` holds its rows at positions
0..n-1 whatever array it is given, ``load_index`` gives back what was saved (the interface's
contract for every kind is in test_vectors.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.index.factory import build_index, load_index, new_index
from recommender.index.vectors import EXACT_SPEC, HNSW_SPEC, IndexSpec, VectorIndexError
from tests.helpers.vectors import unit_vectors


@pytest.mark.parametrize("spec", [EXACT_SPEC, HNSW_SPEC], ids=["flat", "hnsw"])
def test_a_new_index_is_empty_of_its_kind_and_dimension(spec: IndexSpec) -> None:
    index = new_index(spec, 12)
    assert (index.kind, index.dimension, len(index)) == (spec.kind, 12, 0)
    index.add(unit_vectors(3, 12))
    assert len(index) == 3


@pytest.mark.parametrize("spec", [EXACT_SPEC, HNSW_SPEC], ids=["flat", "hnsw"])
def test_built_rows_keep_their_positions(spec: IndexSpec) -> None:
    vectors = unit_vectors(40, 8, seed=11)
    index = build_index(vectors, spec)
    assert np.array_equal(index.reconstruct(), vectors)
    _, positions = index.search(vectors, 1)
    assert list(positions[:, 0]) == list(range(40))  # each row finds itself at its own position


def test_any_float_array_is_built_as_float32() -> None:
    doubles = unit_vectors(5, 4, seed=2).astype(np.float64)
    index = build_index(doubles, EXACT_SPEC)  # type: ignore[arg-type]
    assert index.dimension == 4 and index.reconstruct().dtype == np.float32
    assert np.allclose(index.reconstruct(), doubles, atol=1e-7)
    strided = np.asfortranarray(unit_vectors(6, 4, seed=3))
    assert np.array_equal(build_index(strided, EXACT_SPEC).reconstruct(), strided)


def test_an_empty_catalogue_builds_an_empty_index() -> None:
    """A site with no embedded article yet still gets a build (no dimension known: 1)."""
    for empty in (np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.float32)):
        index = build_index(empty, EXACT_SPEC)
        assert len(index) == 0 and index.dimension == 1
    assert build_index(np.zeros((0, 7), dtype=np.float32), HNSW_SPEC).dimension == 7


def test_load_gives_back_what_was_saved_and_refuses_what_was_not(tmp_path: Path) -> None:
    vectors = unit_vectors(20, 6, seed=5)
    build_index(vectors, HNSW_SPEC).save(tmp_path / "index.bin")
    loaded = load_index(tmp_path / "index.bin")
    assert (loaded.kind, len(loaded)) == ("hnsw", 20)
    assert np.array_equal(loaded.reconstruct(), vectors)
    with pytest.raises(FileNotFoundError):
        load_index(tmp_path / "missing.bin")
    (tmp_path / "junk.bin").write_bytes(b"\x00" * 64)
    with pytest.raises(VectorIndexError):
        load_index(tmp_path / "junk.bin", mmap=True)
