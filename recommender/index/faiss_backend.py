"""The FAISS implementation of ``VectorIndex``: the one module of the project that imports faiss.

Keeping FAISS here means its conventions stop here too: callers get -1 / -inf where no neighbour
was found (FAISS pads similarities with -FLT_MAX), a clear error instead of a C++ assertion, and
memory mapping that really maps (``IO_FLAG_MMAP`` on a flat or HNSW index silently copies it into
RAM; ``IO_FLAG_MMAP_IFC`` maps it: 4 workers on a 100k flat index used 298 MiB PSS, not 738).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from recommender.embedding.encoder import Vectors
from recommender.index.vectors import (
    FLAT,
    HNSW,
    HNSW_SPEC,
    IVF,
    IndexSpec,
    Positions,
    Similarities,
    VectorIndexError,
)

CHUNK = 20_000  # vectors added at a time
TRAIN_PER_LIST = 64


class FaissIndex:
    """A FAISS index behind the ``VectorIndex`` interface (inner product, positions as ids)."""

    def __init__(self, index: Any, kind: str, *, mapped: bool = False) -> None:
        self._index = index
        self._kind = kind
        self._mapped = mapped

    @classmethod
    def create(cls, spec: IndexSpec, dimension: int) -> FaissIndex:
        if dimension < 1:
            raise VectorIndexError(f"an index needs a positive dimension, not {dimension}")
        index: Any
        if spec.kind == FLAT:
            index = faiss.IndexFlatIP(dimension)
        elif spec.kind == HNSW:
            params = {**HNSW_SPEC.params, **spec.params}
            index = faiss.IndexHNSWFlat(dimension, int(params["m"]), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(params["ef_construction"])
            # saved with the index, so a loaded one searches exactly as the built one did
            index.hnsw.efSearch = int(params["ef_search"])
        elif spec.kind == IVF:
            try:
                index = faiss.index_factory(dimension, str(spec.params["factory"]),
                                            faiss.METRIC_INNER_PRODUCT)
            except (KeyError, RuntimeError) as exc:
                raise VectorIndexError(f"not an inverted-file spec: {dict(spec.params)}") from exc
            index.nprobe = int(spec.params.get("nprobe", 32))  # saved with the index
        else:
            raise VectorIndexError(f"unknown index kind {spec.kind!r} (known: {FLAT}, {HNSW}, "
                                   f"{IVF})")
        return cls(index, spec.kind)

    @classmethod
    def load(cls, path: Path, *, mmap: bool = False) -> FaissIndex:
        if not path.is_file():
            raise FileNotFoundError(f"no index file at {path}")
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mmap else 0)
        except RuntimeError as exc:  # FAISS reports a truncated or foreign file this way
            raise VectorIndexError(f"{path} is not a readable index: {exc}") from exc
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise VectorIndexError(f"{path} does not rank by inner product")
        return cls(index, _kind_of(index), mapped=mmap)

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: Vectors, *, progress: Callable[[int], None] | None = None) -> None:
        if self._mapped:
            # FAISS would abort the whole process (a C++ assertion), not raise
            raise VectorIndexError("a memory-mapped index is read-only; load it without mmap "
                                   "to add vectors")
        if len(vectors) and not self._index.is_trained:
            self._train(vectors)
        # in chunks: a memory-mapped matrix is read a chunk at a time, and progress is reported
        for start in range(0, len(vectors), CHUNK):
            matrix = self._matrix(vectors[start:start + CHUNK], "vectors")
            self._index.add(matrix)
            if progress:
                progress(len(matrix))

    def _train(self, vectors: Vectors) -> None:
        """Train an inverted file's centroids on an even sample (FAISS wants 39-256 per list)."""
        n = len(vectors)
        want = min(n, TRAIN_PER_LIST * int(getattr(self._index, "nlist", 1)))
        rows = np.linspace(0, n - 1, num=want).astype(np.int64)
        self._index.train(self._matrix(np.asarray(vectors[rows]), "vectors"))

    def replace_vectors(self, vectors: Vectors, *,
                        progress: Callable[[int], None] | None = None) -> None:
        if len(vectors) != len(self):
            raise VectorIndexError(f"{len(vectors)} vectors cannot replace {len(self)}")
        if self._mapped:
            raise VectorIndexError("a memory-mapped index is read-only")
        if isinstance(self._index, faiss.IndexHNSW):
            storage = faiss.downcast_index(self._index.storage)
            storage.reset()  # the graph (links between positions) stays as built
            target = storage
        else:
            self._index.reset()  # flat: nothing learnt; IVF: the trained centroids stay
            target = self._index
        for start in range(0, len(vectors), CHUNK):
            matrix = self._matrix(vectors[start:start + CHUNK], "vectors")
            target.add(matrix)
            if progress:
                progress(len(matrix))

    def search(self, queries: Vectors, k: int) -> tuple[Similarities, Positions]:
        if k < 0:
            raise VectorIndexError(f"k must not be negative, not {k}")
        if len(queries) == 0 or k == 0:
            return (np.zeros((len(queries), k), dtype=np.float32),
                    np.zeros((len(queries), k), dtype=np.int64))
        sims, positions = self._index.search(self._matrix(queries, "queries"), k)
        found = positions >= 0
        return (np.where(found, sims, -np.inf).astype(np.float32),
                np.where(found, positions, -1).astype(np.int64))

    def reconstruct(self) -> Vectors:
        n = len(self)
        if n == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors: Vectors = np.asarray(self._index.reconstruct_n(0, n), dtype=np.float32)
        return vectors

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    def _matrix(self, rows: Vectors, what: str) -> Vectors:
        """Rows as FAISS takes them (contiguous float32), or a clear error before FAISS asserts."""
        matrix: Vectors = np.ascontiguousarray(rows, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.dimension:
            raise VectorIndexError(f"{what} of shape {matrix.shape} do not fit an index of "
                                   f"dimension {self.dimension}")
        return matrix


def _kind_of(index: Any) -> str:
    """The kind of a loaded index, from its FAISS class (read_index returns the concrete one)."""
    if isinstance(index, faiss.IndexHNSWFlat):
        return HNSW
    if isinstance(index, faiss.IndexFlat):
        return FLAT
    if isinstance(index, faiss.IndexIVF):
        return IVF
    return f"faiss:{type(index).__name__}"
