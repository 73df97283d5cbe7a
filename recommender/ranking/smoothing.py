"""Neighbourhood smoothing: an article's vector, moved towards its closest articles' vectors.

One article says little about its topic; it and its closest neighbours say more. Each build
first centres the embeddings on the catalogue mean (``Smoothing.prepare``), then replaces an
article's vector ``v`` by ``normalise(v + weight * weighted mean(neighbours' v))``, where the
neighbours are the ``smoothing_neighbours`` articles with the best text score (a lexical-heavy
semantic + lexical blend) among its nearest by meaning, each weighted by that score to the
power ``smoothing_power``. This is pseudo-relevance feedback done once per build instead of per
query, so serving costs nothing more.

Measured with ``related-reading eval`` (README, "Evaluation"): a plain mean of 5 neighbours
added +0.006 nDCG@10 on ecbplus, +0.003 on giveme5w1h and +0.004 on reuters; centring,
10 neighbours weighted by score squared and the 0.5/0.5 blend added (with stemming) another
+0.001, +0.001 and +0.005.

The build smooths the whole catalogue against its centred, unsmoothed ("raw") vectors
(``smooth_catalogue``); an article embedded since the build, or a draft, is centred and smoothed
the same way against them (``smooth_rows``): an article's own row never counts as its
neighbour, so a stored article smoothed live gets the vector the build gave it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from recommender.embedding.encoder import Vectors, normalize_rows
from recommender.index.factory import build_index
from recommender.index.vectors import VectorIndex, choose_index
from recommender.ranking.formulas import one_text, text_score
from recommender.ranking.policy import RankingPolicy

IdArray = npt.NDArray[np.int64]


CHUNK = 100_000  # rows read at a time from a memory-mapped matrix
# Neighbours are chosen by a lexical-heavy blend whatever the ranking weights: it picks the same
# story's other reports precisely (0.3/0.7 beat the ranking's own 0.5/0.5 by 0.0015 on reuters)
SELECT_SEMANTIC_WEIGHT = 0.3
SELECT_LEXICAL_WEIGHT = 0.7
# the mean of a handful of articles is one of them, not "news in general": two centred
# articles point in opposite directions, so small catalogues are not centred
CENTRE_MIN_ARTICLES = 50


@dataclass(frozen=True, slots=True)
class Smoothing:
    """The smoothing a build applied (stored in its meta, so live paths match it)."""

    weight: float = 0.0
    neighbours: int = 5
    candidates: int = 50
    semantic_weight: float = SELECT_SEMANTIC_WEIGHT
    lexical_weight: float = SELECT_LEXICAL_WEIGHT
    # a neighbour counts in proportion to its blended score ** power (0: a plain mean)
    power: float = 0.0
    # the catalogue's mean embedding, subtracted before anything else (empty: not centred)
    centre: tuple[float, ...] = ()
    # candidates this lexically close are copies of the article, never its neighbours
    # (above 1: none skipped, as builds written before this did)
    twin_threshold: float = 2.0

    @property
    def on(self) -> bool:
        return self.weight > 0 and self.neighbours > 0

    def blend(self, semantic: npt.NDArray[np.floating], lexical: npt.NDArray[np.floating]
              ) -> npt.NDArray[np.float64]:
        """The ranker's text score (``formulas.text_score``) with the selection's own weights."""
        return text_score(semantic, lexical, self.semantic_weight, self.lexical_weight)

    def prepare(self, vectors: Vectors) -> Vectors:
        """Embeddings as this build compares them: centred on the catalogue mean, re-normalised.

        Every news article shares a "this is news" direction; removing it spreads cosines
        between unrelated stories around 0 instead of 0.1-0.3, so meaning separates topics
        better (README, "Evaluation").
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if not self.centre or len(vectors) == 0:
            return vectors
        return normalize_rows(vectors.reshape(len(vectors), -1)
                              - np.asarray(self.centre, dtype=np.float32))

    def prepare_into(self, vectors: Vectors, out: Vectors, *, batch: int = CHUNK) -> None:
        """``prepare`` a (possibly memory-mapped) matrix chunk by chunk into ``out`` (which may
        be ``vectors`` itself): row by row the same result, without a copy of the whole."""
        for start in range(0, len(vectors), batch):
            out[start:start + batch] = self.prepare(np.asarray(vectors[start:start + batch]))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def for_policy(cls, policy: RankingPolicy, vectors: Vectors | None = None) -> Smoothing:
        """The policy's smoothing for a build of ``vectors`` (their mean is the centre)."""
        centre: tuple[float, ...] = ()
        if policy.smoothing > 0 and policy.centring and vectors is not None \
                and len(vectors) >= CENTRE_MIN_ARTICLES:
            centre = tuple(float(x) for x in _mean(vectors))
        return cls(weight=policy.smoothing, neighbours=policy.smoothing_neighbours,
                   candidates=policy.candidates, power=policy.smoothing_power, centre=centre,
                   twin_threshold=policy.duplicate_collapse_threshold)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Smoothing:
        """A build's smoothing from its meta (a build written before smoothing had none;
        one written before weighted neighbours used a plain mean)."""
        if not data:
            return cls()
        data = {"power": 0.0, **data}
        data["centre"] = tuple(data.get("centre") or ())
        return cls(**data)


def _mean(vectors: Vectors) -> npt.NDArray[np.float64]:
    """Column means in float64, a chunk at a time (one chunk up to CHUNK rows: exactly what
    ``mean(axis=0)`` gives, so small builds keep their centre to the last bit)."""
    if len(vectors) <= CHUNK:
        mean: npt.NDArray[np.float64] = np.asarray(vectors, dtype=np.float64).mean(axis=0)
        return mean
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for start in range(0, len(vectors), CHUNK):
        total += np.asarray(vectors[start:start + CHUNK], dtype=np.float64).sum(axis=0)
    return total / len(vectors)


@dataclass(frozen=True, slots=True)
class Pool:
    """Raw vectors and lexical rows of some articles (the build's, or the delta's)."""

    vectors: Vectors
    lexical: sparse.csr_matrix


def _choose(sims: np.ndarray, found: IdArray, lexical: np.ndarray, smoothing: Smoothing
            ) -> tuple[IdArray, npt.NDArray[np.float32]]:
    """The ``neighbours`` best candidates per row by the blended text score (-1: none), and
    each one's weight in the mean (score ** power). A copy of the article's own text (lexical
    cosine >= ``twin_threshold``: the same wire filed twice) says nothing new about its topic
    and is skipped."""
    usable = (found >= 0) & np.isfinite(sims) & ~one_text(lexical, smoothing.twin_threshold)
    scores = np.where(usable, smoothing.blend(sims, lexical), -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :smoothing.neighbours]
    best = np.take_along_axis(found, order, axis=1)
    chosen = np.take_along_axis(scores, order, axis=1)
    valid = np.isfinite(chosen)
    weights = np.where(valid, np.maximum(np.where(valid, chosen, 0.0), 1e-6) ** smoothing.power,
                       0.0)
    return np.where(valid, best, -1), weights.astype(np.float32)


def _apply(raw: Vectors, neighbours: IdArray, weights: npt.NDArray[np.float32],
           pools: list[Pool], weight: float) -> Vectors:
    """normalise(v + weight * weighted mean of the neighbours' vectors), per row;
    ``neighbours`` index the pools as if they were one matrix."""
    total = np.zeros(raw.shape, dtype=np.float32)
    mass = np.zeros(len(raw), dtype=np.float32)
    offset = 0
    for pool in pools:
        inside = (neighbours >= offset) & (neighbours < offset + len(pool.vectors))
        rows, cols = np.nonzero(inside)
        if len(rows):
            share = weights[rows, cols][:, None]
            np.add.at(total, rows, share * np.asarray(
                pool.vectors[neighbours[rows, cols] - offset], dtype=np.float32))
            np.add.at(mass, rows, weights[rows, cols])
        offset += len(pool.vectors)
    means = total / np.where(mass > 0, mass, 1.0)[:, None]
    return normalize_rows(np.asarray(raw, dtype=np.float32) + weight * means)


def _lexical(query_lexical: sparse.csr_matrix | None, found: IdArray, pools: list[Pool]
             ) -> np.ndarray:
    """Lexical cosine of each query row with each found row of the pools."""
    values = np.zeros(found.shape, dtype=np.float32)
    if query_lexical is None:
        return values
    offset = 0
    for pool in pools:
        inside = (found >= offset) & (found < offset + len(pool.vectors))
        rows, cols = np.nonzero(inside)
        if len(rows):
            left = query_lexical[rows]
            right = pool.lexical[found[rows, cols] - offset]
            values[rows, cols] = np.asarray(left.multiply(right).sum(axis=1)).ravel()
        offset += len(pool.vectors)
    return values


def smooth_catalogue(raw: Vectors, lexical_matrix: sparse.csr_matrix, smoothing: Smoothing, *,
                     exact_max: int, batch: int = 2048, index: VectorIndex | None = None,
                     out: Vectors | None = None, progress: Callable[[int], None] | None = None
                     ) -> Vectors:
    """Smoothed vectors of a whole build (rows aligned with ``raw`` and ``lexical_matrix``).

    ``index`` is the build's own index over ``raw`` (built here when not given): the build then
    swaps the smoothed vectors into that same structure (``VectorIndex.replace_vectors``)
    instead of building a second one. ``out`` receives the rows (a memory-mapped file for a
    large build); ``raw`` may be memory-mapped too: it is read a batch at a time.
    """
    n = len(raw)
    if not smoothing.on or n < 2:
        return raw if isinstance(raw, np.ndarray) else np.asarray(raw, dtype=np.float32)
    pools = [Pool(raw, lexical_matrix)]
    if index is None:
        index = build_index(raw, choose_index(n, exact_max=exact_max))
    k = min(smoothing.candidates + 1, n)
    if out is None:
        out = np.empty(raw.shape, dtype=np.float32)
    for start in range(0, n, batch):
        rows = np.arange(start, min(start + batch, n), dtype=np.int64)
        chunk = np.ascontiguousarray(raw[start:start + len(rows)], dtype=np.float32)
        sims, found = index.search(chunk, k)
        found = np.where(found == rows[:, None], -1, found)  # never one's own neighbour
        best, weights = _choose(sims, found, _lexical(lexical_matrix[rows], found, pools),
                                smoothing)
        out[start:start + len(rows)] = _apply(chunk, best, weights, pools, smoothing.weight)
        if progress:
            progress(len(rows))
    return out


def smooth_rows(queries: Vectors, query_lexical: sparse.csr_matrix | None, pools: list[Pool],
                smoothing: Smoothing, *, exclude: IdArray | None = None, batch: int = 64
                ) -> Vectors:
    """Smoothed vectors of a few articles or drafts, searching the pools by brute force.

    ``exclude[i]`` holds query i's own rows in the pools (as one matrix; -1 pads): an article
    is never its own neighbour, nor is its previous version.
    """
    queries = np.asarray(queries, dtype=np.float32).reshape(len(queries), -1)
    size = sum(len(p.vectors) for p in pools)
    if not smoothing.on or size == 0 or len(queries) == 0:
        return queries
    out = np.empty_like(queries)
    k = min(smoothing.candidates, size)
    for start in range(0, len(queries), batch):
        chunk = slice(start, min(start + batch, len(queries)))
        sims = np.hstack([queries[chunk] @ np.asarray(p.vectors, dtype=np.float32).T
                          for p in pools if len(p.vectors)])
        if exclude is not None:
            own = exclude[chunk].reshape(len(sims), -1)
            rows, cols = np.nonzero(own >= 0)
            sims[rows, own[rows, cols]] = -np.inf
        found = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < size else \
            np.tile(np.arange(size), (len(sims), 1))
        top = np.take_along_axis(sims, found, axis=1)
        rows_lexical = query_lexical[chunk] if query_lexical is not None else None
        best, weights = _choose(top, found.astype(np.int64),
                                _lexical(rows_lexical, found, pools), smoothing)
        out[chunk] = _apply(queries[chunk], best, weights, pools, smoothing.weight)
    return out
