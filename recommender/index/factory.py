"""Making and loading vector indexes: the one place that knows which library is behind them.

``vectors`` defines the interface and the choice by size; the backends implement it and import
it. Keeping the constructors here, apart from both, means the interface never imports a backend
(no cycle) and FAISS is imported only when an index is actually built or loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from recommender.embedding.encoder import Vectors
from recommender.index.vectors import IndexSpec, VectorIndex


def new_index(spec: IndexSpec, dimension: int) -> VectorIndex:
    """An empty index of this kind."""
    from recommender.index.faiss_backend import FaissIndex

    return FaissIndex.create(spec, dimension)


def build_index(vectors: Vectors, spec: IndexSpec, *,
                progress: Callable[[int], None] | None = None) -> VectorIndex:
    """An index of this kind holding ``vectors`` (rows of a 2-d array, possibly memory-mapped:
    added a chunk at a time) at positions 0..n-1."""
    matrix = vectors if isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 \
        else np.asarray(vectors, dtype=np.float32)
    dimension = int(matrix.shape[1]) if matrix.ndim == 2 and matrix.shape[1] else 1
    index = new_index(spec, dimension)
    if len(matrix):
        index.add(matrix, progress=progress)
    return index


def load_index(path: Path, *, mmap: bool = False) -> VectorIndex:
    """An index saved with ``save``; ``mmap`` maps the file instead of reading it (shared by every
    process that maps it, paged in as searched) and makes the index read-only."""
    from recommender.index.faiss_backend import FaissIndex

    return FaissIndex.load(path, mmap=mmap)
