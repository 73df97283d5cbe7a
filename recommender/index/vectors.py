"""One vector-index interface for every kind of index a build can use, and the choice by size.

The rest of the library builds, searches, saves and loads a ``VectorIndex``; it never sees the
library behind it. Today that is FAISS (``faiss_backend``), imported only when an index is built
or loaded, so importing this module (the web process does, through the build store) costs nothing.

A new kind (IVF for large catalogues, an index from a FAISS factory string, vectors kept on disk)
is a new ``IndexSpec`` that the backend knows how to create plus a line in ``choose_index``:
the interface and its callers stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from recommender.embedding.encoder import Vectors

Similarities = npt.NDArray[np.float32]
Positions = npt.NDArray[np.int64]

FLAT = "flat"
HNSW = "hnsw"
IVF = "ivf"


class VectorIndexError(ValueError):
    """An index cannot do what was asked (unknown kind, wrong dimension, read-only); the message
    says why. A ValueError, so callers that validate input catch it with the rest."""


@dataclass(frozen=True)
class IndexSpec:
    """What to build: a kind and its parameters (how the backend creates the empty index)."""

    kind: str
    params: Mapping[str, int | float | str] = field(default_factory=dict, hash=False)


EXACT_SPEC = IndexSpec(FLAT)
# M=32 links per node; efConstruction 80 and efSearch 128 keep recall@10 near 0.99 on clustered
# embeddings (ENVIRONMENT.md, "FAISS"). Changing them changes every list of a large site.
HNSW_SPEC = IndexSpec(HNSW, {"m": 32, "ef_construction": 80, "ef_search": 128})


# Past ``hnsw_max`` an HNSW graph takes too long to build (15+ min at 1M on 2 cores): an
# inverted file (FAISS factory string ``IVF<nlist>,Flat``) trains in a minute and searches a
# batch of pages faster. ~4 sqrt(n) lists; ``nprobe`` chosen by list recall@10 against exact
# search (docs/performance.md).
IVF_NPROBE = 48


def ivf_spec(count: int) -> IndexSpec:
    """An inverted-file index for ``count`` vectors: a power of two near 4 sqrt(count) lists."""
    nlist = 1 << max(6, round(np.log2(4 * np.sqrt(max(count, 1)))))
    return IndexSpec(IVF, {"factory": f"IVF{nlist},Flat", "nprobe": IVF_NPROBE})


def choose_index(count: int, *, exact_max: int, hnsw_max: int | None = None) -> IndexSpec:
    """Exact inner product up to ``exact_max`` vectors (10.6 ms a query at 100k: fast enough for a
    nightly build and an editor's preview), HNSW past it (0.18 ms a query, recall ~0.99), an
    inverted file past ``hnsw_max`` (None: never)."""
    if count <= exact_max:
        return EXACT_SPEC
    if hnsw_max is None or count <= hnsw_max:
        return HNSW_SPEC
    return ivf_spec(count)


class VectorIndex(Protocol):
    """Inner-product search over vectors known by their position (0..len-1, in the order added).

    ``search`` returns ``(similarities, positions)``, each of shape ``(len(queries), k)``, best
    first; where fewer than ``k`` neighbours were found (a small index, or an approximate search
    that stopped early) the position is -1 and the similarity -inf, whatever the backend.
    """

    @property
    def kind(self) -> str:
        """The kind of index (``flat``, ``hnsw``, ...), as stored in a build's meta."""
        ...

    @property
    def dimension(self) -> int: ...

    def __len__(self) -> int: ...

    def add(self, vectors: Vectors, *, progress: Callable[[int], None] | None = None) -> None:
        """Append vectors; they take the next positions. A memory-mapped index is read-only.
        ``progress`` is called with the number of vectors added, chunk by chunk."""
        ...

    def replace_vectors(self, vectors: Vectors, *,
                        progress: Callable[[int], None] | None = None) -> None:
        """Hold ``vectors`` (as many as now, same positions) instead of the current ones, keeping
        what was learnt from them: an HNSW graph, an inverted file's trained centroids.

        A build searches its raw embeddings for smoothing, then indexes the smoothed ones: they
        are close, so the structure built once serves both (one graph built, not two).
        """
        ...

    def search(self, queries: Vectors, k: int) -> tuple[Similarities, Positions]: ...

    def reconstruct(self) -> Vectors:
        """Every stored vector, in position order (a copy): builds written before the vectors were
        stored beside the index get them back from it."""
        ...

    def save(self, path: Path) -> None: ...
