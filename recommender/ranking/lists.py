"""Computing related lists: one page live (editors, drafts) or every page (the nightly build).

Both paths run the same ``ranking.rank`` over the same candidates, so what an editor previews is
what the build stores.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from recommender.catalog.items import Curations, ItemInfo
from recommender.embedding.encoder import Vectors
from recommender.ranking.batch import CatalogArrays, prescore
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.space import SearchSpace
from recommender.ranking.stages import DUPLICATE_SLACK, Candidate, Ranked, diversity_pool, rank
from recommender.storage.schema import RelatedItem

Progress = Callable[[int], None]


def rank_page(page: ItemInfo, vector: Vectors, lexical_row: sparse.csr_matrix | None,
              space: SearchSpace, items: Mapping[int, ItemInfo], curations: Curations,
              fallback: Mapping[str, Sequence[ItemInfo]], policy: RankingPolicy, k: int,
              *, below_cut: int = 5) -> Ranked:
    """Rank the related items of one page (stored or draft) from the search space."""
    candidates = [Candidate(items[h.id], semantic=h.semantic, lexical=h.lexical)
                  for h in space.search(vector, lexical_row, policy.candidates + 1) if h.id in items]
    return _rank(page, candidates, vector, lexical_row, space, items, curations, fallback,
                 policy, k, below_cut)


def _pin_candidate(target: ItemInfo, page_vector: Vectors, lexical_row: sparse.csr_matrix | None,
                   space: SearchSpace) -> Candidate:
    vec = space.vector(target.id)
    semantic = float(vec @ page_vector) if vec is not None else 0.0
    row = space.lexical_row(target.id)
    lexical = float((row @ lexical_row.T).toarray()[0, 0]) if row is not None \
        and lexical_row is not None else 0.0
    return Candidate(target, semantic=semantic, lexical=lexical,
                     signals={"semantic": round(semantic, 4), "lexical": round(lexical, 4)})


def _rank(page: ItemInfo, candidates: list[Candidate], vector: Vectors,
          lexical_row: sparse.csr_matrix | None, space: SearchSpace,
          items: Mapping[int, ItemInfo], curations: Curations,
          fallback: Mapping[str, Sequence[ItemInfo]], policy: RankingPolicy, k: int,
          below_cut: int) -> Ranked:
    pins = [(_pin_candidate(items[t], vector, lexical_row, space), pos)
            for t, pos in curations.pins.get(page.id, []) if t in items]
    pool = [Candidate(info) for info in fallback.get(page.section, ())]
    return rank(page, candidates, policy, k, tag_idf=_tag_idf(space),
                pairwise=space.pairwise,
                blocked=curations.blocked_for(page.id), pins=pins, fallback_pool=pool,
                below_cut=below_cut)


def _tag_idf(space: SearchSpace) -> Mapping[str, float]:
    return space.build.tag_idf if space.build is not None else {}


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


def compute_all(space: SearchSpace, items: Mapping[int, ItemInfo], curations: Curations,
                fallback: Mapping[str, Sequence[ItemInfo]], policy: RankingPolicy, k: int,
                build_id: str, now: datetime, *, progress: Progress | None = None,
                batch: int = 512) -> tuple[list[int], list[dict[str, Any]]]:
    """Lists for every live article in the build: batched vector search, then ranking."""
    with single_threaded_blas():
        return _compute_all(space, items, curations, fallback, policy, k, build_id, now,
                            progress=progress, batch=batch)


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


def _compute_all(space: SearchSpace, items: Mapping[int, ItemInfo], curations: Curations,
                 fallback: Mapping[str, Sequence[ItemInfo]], policy: RankingPolicy, k: int,
                 build_id: str, now: datetime, *, progress: Progress | None,
                 batch: int) -> tuple[list[int], list[dict[str, Any]]]:
    build = space.build
    if build is None:
        return [], []
    pages = [int(a) for a in build.ids if int(a) in items and items[int(a)].live]
    arrays = CatalogArrays.build([int(a) for a in build.ids], items, build.tag_idf, policy,
                                 frozenset(curations.site_blocks))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(pages), batch):
        chunk = pages[start:start + batch]
        positions = np.asarray([build.positions[a] for a in chunk], dtype=np.int64)
        vectors = np.asarray(build.vectors[positions], dtype=np.float32)
        sims, found = build.index.search(vectors, min(policy.candidates + 1, len(build.ids)))
        lex = _pairwise_lexical(build.lexical_matrix, positions, found)
        scores = prescore(arrays, positions, found, sims, lex, policy)
        order = np.argsort(-scores, axis=1, kind="stable")
        for row_i, article_id in enumerate(chunk):
            # rank() can only ever place the best `keep` of them (ranking.diversity_pool)
            keep = (diversity_pool(k, 0, len(curations.pins.get(article_id, ())))
                    + DUPLICATE_SLACK + len(curations.blocked_for(article_id)))
            best = [j for j in order[row_i][:keep] if np.isfinite(scores[row_i, j])]
            # the filtered ones go to rank() too: it must know them to keep them out of fallback
            best += [j for j in np.flatnonzero(~np.isfinite(scores[row_i]))
                     if found[row_i, j] >= 0]
            candidates = [Candidate(items[int(build.ids[found[row_i, j]])],
                                    semantic=float(sims[row_i, j]), lexical=float(lex[row_i, j]))
                          for j in best]
            lexical_row = build.lexical_matrix[int(positions[row_i])]
            ranked = _rank(items[article_id], candidates, vectors[row_i], lexical_row, space,
                           items, curations, fallback, policy, k, below_cut=0)
            rows.extend(related_rows(article_id, ranked, build_id, now))
        if progress:
            progress(len(chunk))
    return pages, rows


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
