"""The batch scorer: the filter and the score of every page of a build, a batch of pages at once.

``stages.rank`` ranks one page (what editors see explained): it filters and scores the page's
candidates, then diversifies, curates and fills (``stages.rank_scored``). Doing the first two
page by page for 100,000 articles is too slow, so the nightly build searches a batch of pages at
once and applies the same formulas to the whole (pages x candidates) array, through ``pairs.py``
(the very code ``stages`` applies to one page: no formula is written here). Each page keeps its
best ``stages.reach`` candidates, all that ranking can place, and ``lists.compute_all`` hands
them to ``stages.rank_scored``. ``tests/ranking/test_batch.py`` checks that this stores exactly
the lists ``rank`` gives, with the same scores and signals.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from recommender.catalog.items import ItemInfo
from recommender.embedding.encoder import Vectors
from recommender.ranking import formulas
from recommender.ranking.context import RankingContext
from recommender.ranking.formulas import BoolArray
from recommender.ranking.pairs import IntArray, ItemArrays, pair_exclusions, pair_scores
from recommender.ranking.stages import Candidate, Dropped, reach, record_scores, sort_out

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PageCandidates:
    """One page of the build, its candidates filtered and scored, ready for ``rank_scored``."""

    article_id: int
    vector: Vectors
    lexical_row: sparse.csr_matrix
    kept: list[Candidate]
    dropped: list[Dropped]


def build_pages(context: RankingContext) -> list[int]:
    """The pages a build stores lists for: its live articles, in build order."""
    build, items = context.space.build, context.items
    if build is None:
        return []
    return [a for a in (int(x) for x in build.ids) if a in items and items[a].live]


def build_arrays(context: RankingContext) -> ItemArrays:
    """The formulas' view of every article of the build (computed once, shared by blocks)."""
    build, items = context.space.build, context.items
    ids = [] if build is None else [int(a) for a in build.ids]
    return ItemArrays([items.get(a) or ItemInfo(id=a, live=False) for a in ids],
                      context.tag_idf, context.policy)


def candidates_by_page(context: RankingContext, *, progress: Progress | None = None,
                       batch: int = 512, pages: Sequence[int] | None = None,
                       arrays: ItemArrays | None = None, only: Collection[int] | None = None
                       ) -> Iterator[PageCandidates]:
    """Every live article of the build (or the given ``pages``, a block of them) with its
    candidates filtered and scored as ``rank`` does it: a batched vector search, then the
    formulas over the whole batch. ``arrays`` (``build_arrays``) may be shared by blocks.

    A page keeps its best ``stages.reach`` candidates; those the filter drops come along as
    dropped, so that they stay out of the fallback filler too. ``only`` limits the pages to
    these (a block of the build computed elsewhere, e.g. by a Ray task), in the build's order.
    """
    build, items, curations = context.space.build, context.items, context.curations
    if build is None:
        return
    ids = build.ids
    if pages is None:
        pages = build_pages(context)
    if only is not None:
        pages = [a for a in pages if a in only]
    if arrays is None:
        arrays = build_arrays(context)
    site_blocked = np.isin(arrays.ids, np.fromiter(curations.site_blocks, dtype=np.int64))
    for start in range(0, len(pages), batch):
        chunk = pages[start:start + batch]
        positions = np.asarray([build.positions[a] for a in chunk], dtype=np.int64)
        vectors = np.asarray(build.vectors[positions], dtype=np.float32)
        sims, found = build.index.search(vectors, min(context.policy.candidates + 1, len(ids)))
        lex = _pairwise_lexical(build.lexical_matrix, positions, found)
        safe = np.where(found >= 0, found, 0)
        eligible, reasons = _exclusions(arrays, positions, found, lex, site_blocked,
                                        [curations.blocked_for(a) for a in chunk])
        scores = pair_scores(arrays, positions, safe, semantic=sims, lexical=lex)
        order = np.argsort(-np.where(eligible, scores.score, -np.inf), axis=1, kind="stable")
        for row, article_id in enumerate(chunk):
            keep = reach(context.k, context.below_cut, len(curations.pins.get(article_id, ())),
                         len(curations.blocked_for(article_id)))
            best = [int(j) for j in order[row][:keep] if eligible[row, j]]
            columns = best + [int(j) for j in np.flatnonzero(~eligible[row]) if found[row, j] >= 0]
            candidates = [Candidate(items[int(ids[found[row, j]])], semantic=float(sims[row, j]),
                                    lexical=float(lex[row, j])) for j in columns]
            kept, dropped = sort_out(candidates, reasons[row, columns].tolist())
            scored = [j for j in best if reasons[row, j] == formulas.KEPT]  # aligned with kept
            record_scores(kept, scores.take((row, scored)))
            yield PageCandidates(article_id, vectors[row],
                                 build.lexical_matrix[int(positions[row])], kept, dropped)
        if progress:
            progress(len(chunk))


def _exclusions(items: ItemArrays, pages: IntArray, found: IntArray,
                lexical: npt.NDArray[np.float32], site_blocked: BoolArray,
                page_blocks: Sequence[frozenset[int]]) -> tuple[BoolArray, npt.NDArray[np.int8]]:
    """Which found candidates compete for each page's best places, and each one's
    ``formulas.exclusions`` code. A page's own blocks do not take a candidate out of the
    competition (``stages.reach`` leaves room for them), only site-wide blocks do."""
    safe = np.where(found >= 0, found, 0)
    site = pair_exclusions(items, pages, safe, lexical=lexical, blocked=site_blocked[safe])
    eligible: BoolArray = (found >= 0) & (site == formulas.KEPT)
    if not any(page_blocks):
        return eligible, site
    ids = items.ids[safe]
    blocked = site_blocked[safe].copy()
    for row, blocks in enumerate(page_blocks):
        if blocks:
            blocked[row] |= np.isin(ids[row], np.fromiter(blocks, dtype=np.int64))
    return eligible, pair_exclusions(items, pages, safe, lexical=lexical, blocked=blocked)


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
