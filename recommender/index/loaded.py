"""One build, loaded: its articles' vectors, searchable by meaning, mapped from disk.

Holds only what the index writes (ids, vectors, the index over them, the vectors before their
last transformation); what other packages store beside them in the build directory they read
themselves from ``directory`` (``ranking.build_data``), so this package depends on none of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.embedding.encoder import Vectors
from recommender.index.vectors import VectorIndex

IdArray = npt.NDArray[np.int64]


@dataclass
class LoadedBuild:
    """A complete build; row ``i`` of ``vectors`` and ``raw`` and position ``i`` of ``index`` are
    article ``ids[i]``."""

    build_id: str
    meta: dict[str, Any]
    directory: Path
    ids: IdArray
    index: VectorIndex
    vectors: Vectors  # what the index holds (the smoothed embeddings)
    raw: Vectors  # before smoothing; ``vectors`` itself when the build did not smooth

    @functools.cached_property
    def positions(self) -> dict[int, int]:
        """Article id -> row. Computed on first use: a build extended by another package (a copy
        of these fields) must not pay for it twice."""
        return {int(a): i for i, a in enumerate(self.ids)}

    def search(self, queries: Vectors, k: int) -> tuple[npt.NDArray[np.float32], IdArray]:
        """(similarities, article ids) of the ``k`` nearest per query; -1 pads short rows."""
        if len(self.ids) == 0 or len(queries) == 0:
            shape = (len(queries), 0)
            return np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.int64)
        k = min(k, len(self.ids))
        scores, positions = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        ids = np.where(positions >= 0, self.ids[np.clip(positions, 0, None)], -1)
        return scores.astype(np.float32), ids.astype(np.int64)

    def vector(self, article_id: int) -> Vectors | None:
        position = self.positions.get(article_id)
        # a copy: a view would point into the mapped file, unmapped with the build
        return None if position is None else np.array(self.vectors[position], dtype=np.float32)
