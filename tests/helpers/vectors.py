"""Random unit vectors for the index tests (no model): uniform, or clustered like embeddings."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from recommender.embedding.encoder import Vectors, normalize_rows


def unit_vectors(n: int, dimension: int = 32, seed: int = 0) -> Vectors:
    """Uniform on the sphere: the worst case for an approximate index, fine for exact search."""
    return normalize_rows(np.random.default_rng(seed).normal(size=(n, dimension)))


def clustered_vectors(n: int, dimension: int = 32, clusters: int = 20, spread: float = 0.5,
                      seed: int = 0) -> Vectors:
    """Points around a few topic centres, the shape real article embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dimension))
    return normalize_rows(centres[rng.integers(clusters, size=n)]
                          + spread * rng.normal(size=(n, dimension)))


def recall(truth: npt.NDArray[np.int64], found: npt.NDArray[np.int64]) -> float:
    """Mean share of each row's true neighbours that ``found`` has too."""
    k = truth.shape[1]
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found, strict=True)]))
