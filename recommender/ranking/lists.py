"""Related lists: one page ranked live (editors, drafts, publishing) or every page of a build.

Both rank with the same ``RankingContext`` and the same stages, so what an editor previews is
what the build stores: one page runs ``stages.rank``; the build filters and scores every page in
batches (``batch.py``, the same formulas) and runs the remaining stages (``stages.rank_scored``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from scipy import sparse
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from recommender.catalog.items import ItemInfo
from recommender.embedding.encoder import Vectors
from recommender.ranking.batch import Progress, build_pages, candidates_by_page
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


def block_rows(context: RankingContext, pages: Sequence[int], *,
               arrays: ItemArrays | None = None, progress: Progress | None = None,
               batch: int = 512) -> list[ListRow]:
    """The stored lists of a block of pages of the context's build (``batch.build_pages``
    gives them all): what the build, or a worker given the build's files, computes per block.
    ``arrays`` (``batch.build_arrays``) is shared by the blocks of one build."""
    rows: list[ListRow] = []
    with single_threaded_blas():
        for found in candidates_by_page(context, progress=progress, batch=batch, pages=pages,
                                        arrays=arrays):
            page = context.items[found.article_id]
            pins, pool = _curation(context, page, found.vector, found.lexical_row)
            ranked = rank_scored(page, found.kept, found.dropped, context.policy, context.k,
                                 pairwise=context.space.pairwise,
                                 blocked=context.curations.blocked_for(page.id), pins=pins,
                                 fallback_pool=pool, below_cut=context.below_cut)
            rows.extend((found.article_id, c.id, i, round(c.score, 6), c.signals, c.fallback)
                        for i, c in enumerate(ranked.items, start=1))
    return rows


def compute_all(context: RankingContext, build_id: str, now: datetime, *,
                progress: Progress | None = None, batch: int = 512
                ) -> tuple[list[int], list[dict[str, Any]]]:
    """Lists for every live article in the context's build (its pages, and their rows): the
    candidates filtered and scored by ``batch.py``, the rest of ``rank`` page by page."""
    pages = build_pages(context)
    rows = block_rows(context, pages, progress=progress, batch=batch)
    return pages, [{"article_id": a, "target_id": t, "position": p, "score": s, "signals": g,
                    "fallback": f, "build_id": build_id, "computed": now}
                   for a, t, p, s, g, f in rows]


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
