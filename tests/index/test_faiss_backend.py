"""The FAISS backend: its parameters reach FAISS, its errors are clear, and FAISS stays inside it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from recommender.index.faiss_backend import FaissIndex
from recommender.index.vectors import EXACT_SPEC, HNSW_SPEC, IndexSpec, VectorIndexError
from tests.helpers.vectors import clustered_vectors, recall

ROOT = Path(__file__).resolve().parents[2]


def _imports_faiss(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "faiss"
                                                for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "faiss":
            return True
    return False


def test_only_the_backend_imports_faiss() -> None:
    sources = [p for top in ("recommender", "web", "tests", "benchmarks", "scripts")
               for p in (ROOT / top).rglob("*.py")]
    assert len(sources) > 50  # the scan really saw the project
    importers = sorted(str(p.relative_to(ROOT)) for p in sources if _imports_faiss(p))
    assert importers == ["recommender/index/faiss_backend.py"]


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
