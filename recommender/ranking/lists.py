"""Related lists: one page ranked live (editors, drafts, publishing) or every page of a build.

Both rank with the same ``RankingContext`` and the same stages, so what an editor previews is
what the build stores: one page runs ``stages.rank``; the build filters and scores every page in
batches (``batch.py``, the same formulas) and runs the remaining stages (``stages.rank_scored``).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scipy import sparse
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from recommender.catalog.items import ItemInfo
from recommender.embedding.encoder import Vectors
from recommender.ranking.batch import Progress, candidates_by_page
from recommender.ranking.context import RankingContext
from recommender.ranking.pairs import ItemArrays
from recommender.ranking.space import SearchSpace
from recommender.ranking.stages import Candidate, Ranked, rank, rank_scored
from recommender.storage.schema import RelatedItem


def rank_page(context: RankingContext, page: ItemInfo, vector: Vectors,
              lexical_row: sparse.csr_matrix | None) -> Ranked:
    """Rank the related items of one page (stored or draft) from the search space."""
    items = context.items
    hits = context.space.search(vector, lexical_row, context.policy.candidates + 1)
    candidates = [Candidate(items[h.id], semantic=h.semantic, lexical=h.lexical)
                  for h in hits if h.id in items]
    pins, pool = _curation(context, page, vector, lexical_row)
    return rank(page, candidates, context.policy, context.k, tag_idf=context.tag_idf,
                pairwise=context.space.pairwise, blocked=context.curations.blocked_for(page.id),
                pins=pins, fallback_pool=pool, below_cut=context.below_cut)


def _curation(context: RankingContext, page: ItemInfo, vector: Vectors,
              lexical_row: sparse.csr_matrix | None
              ) -> tuple[list[tuple[Candidate, int]], list[Candidate]]:
    """The page's pins (with their similarity to it) and its section's fallback filler."""
    items, space = context.items, context.space
    pins = [(_pin_candidate(items[t], vector, lexical_row, space), pos)
            for t, pos in context.curations.pins.get(page.id, []) if t in items]
    return pins, [Candidate(info) for info in context.fallback.get(page.section, ())]


def _pin_candidate(target: ItemInfo, page_vector: Vectors, lexical_row: sparse.csr_matrix | None,
                   space: SearchSpace) -> Candidate:
    vec = space.vector(target.id)
    semantic = float(vec @ page_vector) if vec is not None else 0.0
    row = space.lexical_row(target.id)
    lexical = float((row @ lexical_row.T).toarray()[0, 0]) if row is not None \
        and lexical_row is not None else 0.0
    return Candidate(target, semantic=semantic, lexical=lexical,
                     signals={"semantic": round(semantic, 4), "lexical": round(lexical, 4)})


# One stored list row, as a build writes it in bulk: (page, target, position, score, signals,
# fallback); the build id and time are the build's.
ListRow = tuple[int, int, int, float, dict[str, Any], bool]


def _ranked_pages(context: RankingContext, *, pages: Sequence[int] | None = None,
                  only: Collection[int] | None = None, arrays: ItemArrays | None = None,
                  progress: Progress | None = None, batch: int = 512
                  ) -> Iterator[tuple[int, Ranked]]:
    """Each page of the build (or of ``pages`` / ``only``) with its ranked list, in order: the
    candidates filtered and scored by ``batch.py``, the rest of ``rank`` page by page."""
    with single_threaded_blas():
        for found in candidates_by_page(context, progress=progress, batch=batch, pages=pages,
                                        arrays=arrays, only=only):
            page = context.items[found.article_id]
            pins, pool = _curation(context, page, found.vector, found.lexical_row)
            yield found.article_id, rank_scored(
                page, found.kept, found.dropped, context.policy, context.k,
                pairwise=context.space.pairwise, blocked=context.curations.blocked_for(page.id),
                pins=pins, fallback_pool=pool, below_cut=context.below_cut)


def block_rows(context: RankingContext, pages: Sequence[int], *,
               arrays: ItemArrays | None = None, progress: Progress | None = None,
               batch: int = 512) -> list[ListRow]:
    """The stored lists of a block of pages of the context's build (``batch.build_pages``
    gives them all): what the build, or a worker given the build's files, computes per block.
    ``arrays`` (``batch.build_arrays``) is shared by the blocks of one build."""
    return [(page, c.id, i, round(c.score, 6), c.signals, c.fallback)
            for page, ranked in _ranked_pages(context, pages=pages, arrays=arrays,
                                              progress=progress, batch=batch)
            for i, c in enumerate(ranked.items, start=1)]


def compute_all(context: RankingContext, build_id: str, now: datetime, *,
                progress: Progress | None = None, batch: int = 512,
                extras: ListExtras | None = None, only: Collection[int] | None = None,
                ) -> tuple[list[int], list[dict[str, Any]]]:
    """Lists for every live article in the context's build (its pages, and their rows), in
    memory. ``only``: just these pages (one block of the build).

    ``extras``, when given, collects each page's candidates below the cut (as rows) and its
    pinned targets: what the exposure cap (``exposure.py``) needs to move slots after ranking.
    """
    pages: list[int] = []
    rows: list[dict[str, Any]] = []
    for page, ranked in _ranked_pages(context, only=only, progress=progress, batch=batch):
        rows.extend(related_rows(page, ranked, build_id, now))
        pages.append(page)
        if extras is not None:
            extras.add(page, ranked, build_id, now)
    return pages, rows


@dataclass
class ListExtras:
    """What ``compute_all`` saw besides the lists: spare candidates and pins, per page."""

    spares: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    pinned: set[tuple[int, int]] = field(default_factory=set)

    def add(self, page: int, ranked: Ranked, build_id: str, now: datetime) -> None:
        spare = Ranked(items=ranked.below_cut, below_cut=[], dropped=[])
        self.spares[page] = related_rows(page, spare, build_id, now)
        self.pinned.update((page, c.id) for c in ranked.items if c.pinned)


def related_rows(article_id: int, ranked: Ranked, build_id: str, now: datetime
                 ) -> list[dict[str, Any]]:
    return [{"article_id": article_id, "target_id": c.id, "position": i, "score": round(c.score, 6),
             "signals": c.signals, "fallback": c.fallback, "build_id": build_id, "computed": now}
            for i, c in enumerate(ranked.items, start=1)]


def replace_lists(session: Session, article_ids: Sequence[int], rows: list[dict[str, Any]]) -> None:
    """Swap the stored lists of these articles for new rows (caller commits)."""
    for start in range(0, len(article_ids), 500):
        session.execute(delete(RelatedItem).where(
            RelatedItem.article_id.in_(list(article_ids[start:start + 500]))))
    for start in range(0, len(rows), 5000):
        session.execute(insert(RelatedItem), rows[start:start + 5000])


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Ranking does thousands of tiny matrix products; threaded BLAS makes each ~400x slower
    on a busy 2-core machine (measured: 33 ms vs 0.08 ms for 72x384), so use one thread."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _blas_controller() -> Any:
    """Scanning the loaded libraries costs ~4 ms; a live preview cannot pay it every time."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
