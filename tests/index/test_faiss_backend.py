"""The FAISS backend: its parameters reach FAISS, its errors are clear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.index.faiss_backend import FaissIndex
from recommender.index.vectors import EXACT_SPEC, HNSW_SPEC, IndexSpec, VectorIndexError
from tests.helpers.vectors import clustered_vectors, recall


def test_hnsw_parameters_reach_faiss() -> None:
    vectors = clustered_vectors(3000)
    queries = vectors[:300]
    _, truth = _built(EXACT_SPEC, vectors).search(queries, 10)
    _, default = _built(HNSW_SPEC, vectors).search(queries, 10)
    _, narrow = _built(IndexSpec("hnsw", {"ef_search": 1, "m": 4}), vectors).search(queries, 10)
    assert recall(truth, narrow) < recall(truth, default) - 0.2


def _built(spec: IndexSpec, vectors: np.ndarray) -> FaissIndex:
    index = FaissIndex.create(spec, vectors.shape[1])
    index.add(vectors)
    return index


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no index file"):
        FaissIndex.load(tmp_path / "missing.faiss")
    (tmp_path / "junk.faiss").write_bytes(b"not an index at all")
    with pytest.raises(VectorIndexError, match="not a readable index"):
        FaissIndex.load(tmp_path / "junk.faiss")
    with pytest.raises(VectorIndexError, match="positive dimension"):
        FaissIndex.create(EXACT_SPEC, 0)
