"""The batch scorer: every page of a build pre-scored at once, so that each page's ranking only
looks at the few candidates it can place.

``stages.rank`` ranks one page (what editors see explained). Running it on every candidate of
every one of 100,000 articles is too slow, so the nightly build first searches a batch of pages
at once, applies the filter and score formulas to the whole (pages x candidates) array through
``pairs.py`` (the very code ``stages`` applies to one page, so no formula is written here), keeps
each page's best ``stages.reach`` and hands only those to ``rank`` (``lists.compute_all``).
``tests/ranking/test_batch.py`` checks that this stores exactly the lists ``rank`` gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from recommender.catalog.items import ItemInfo
from recommender.embedding.encoder import Vectors
from recommender.ranking import formulas
from recommender.ranking.context import RankingContext
from recommender.ranking.formulas import BoolArray, FloatArray
from recommender.ranking.pairs import IntArray, ItemArrays, pair_exclusions, pair_scores
from recommender.ranking.stages import Candidate, reach

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PageCandidates:
    """One page of the build with the candidates its ranking needs."""

    article_id: int
    vector: Vectors
    lexical_row: sparse.csr_matrix
    candidates: list[Candidate]


def prescore(items: ItemArrays, pages: IntArray, cands: IntArray, semantic: npt.ArrayLike,
             lexical: npt.ArrayLike, blocked: BoolArray) -> FloatArray:
    """The score ``stages.rank`` gives each (page, candidate) pair before diversity; -inf where
    the filter drops it. ``pages`` and ``cands`` are positions in ``items`` (-1: no candidate);
    ``blocked`` is per item (blocked site-wide)."""
    valid = cands >= 0
    safe = np.where(valid, cands, 0)
    reasons = pair_exclusions(items, pages, safe, lexical=lexical, blocked=blocked[safe])
    scores = pair_scores(items, pages, safe, semantic=semantic, lexical=lexical)
    result: FloatArray = np.where(valid & (reasons == formulas.KEPT), scores.score, -np.inf)
    return result


def candidates_by_page(context: RankingContext, *, progress: Progress | None = None,
                       batch: int = 512) -> Iterator[PageCandidates]:
    """Every live article of the build with its candidates: batched vector search, then the
    best few by ``prescore`` (plus the filtered ones, which ``rank`` must know to keep them out
    of the fallback filler)."""
    build, items, curations = context.space.build, context.items, context.curations
    if build is None:
        return
    ids = [int(a) for a in build.ids]
    pages = [a for a in ids if a in items and items[a].live]
    arrays = ItemArrays([items.get(a) or ItemInfo(id=a, live=False) for a in ids],
                        context.tag_idf, context.policy)
    site_blocked = np.isin(arrays.ids, np.fromiter(curations.site_blocks, dtype=np.int64))
    for start in range(0, len(pages), batch):
        chunk = pages[start:start + batch]
        positions = np.asarray([build.positions[a] for a in chunk], dtype=np.int64)
        vectors = np.asarray(build.vectors[positions], dtype=np.float32)
        sims, found = build.index.search(vectors, min(context.policy.candidates + 1, len(ids)))
        lex = _pairwise_lexical(build.lexical_matrix, positions, found)
        scores = prescore(arrays, positions, found, sims, lex, site_blocked)
        order = np.argsort(-scores, axis=1, kind="stable")
        for row_i, article_id in enumerate(chunk):
            keep = reach(context.k, context.below_cut, len(curations.pins.get(article_id, ())),
                         len(curations.blocked_for(article_id)))
            best = [j for j in order[row_i][:keep] if np.isfinite(scores[row_i, j])]
            best += [j for j in np.flatnonzero(~np.isfinite(scores[row_i]))
                     if found[row_i, j] >= 0]
            candidates = [Candidate(items[ids[found[row_i, j]]], semantic=float(sims[row_i, j]),
                                    lexical=float(lex[row_i, j]))
                          for j in best]
            yield PageCandidates(article_id, vectors[row_i],
                                 build.lexical_matrix[int(positions[row_i])], candidates)
        if progress:
            progress(len(chunk))


def _pairwise_lexical(matrix: sparse.csr_matrix, pages: np.ndarray, found: np.ndarray
                      ) -> np.ndarray:
    """Lexical cosine of each page with each of its candidates (build positions, -1 = none)."""
    flat = found.ravel()
    valid = flat >= 0
    left = matrix[np.repeat(pages, found.shape[1])[valid]]
    right = matrix[flat[valid]]
    values = np.zeros(found.size, dtype=np.float32)
    values[valid] = np.asarray(left.multiply(right).sum(axis=1), dtype=np.float32).ravel()
    return values.reshape(found.shape)
