"""The scoring stages, vectorised over a batch of pages, for precomputing every list.

``ranking.rank`` is the reference: it is what editors see explained. Running it on ~100 Python
candidates for each of 100,000 articles is too slow, so the nightly build first scores every
(page, candidate) pair here with the same formulas in numpy, keeps each page's best few (all
that ``rank`` can ever place, see ``ranking.diversity_pool``), and runs ``rank`` on those only.
``tests/test_prescore.py`` checks the two paths give the same lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from recommender.catalog.items import ItemInfo
from recommender.ranking.policy import RankingPolicy

FloatArray = npt.NDArray[np.float64]


def _codes(values: Sequence[str]) -> npt.NDArray[np.int32]:
    """Integer codes with 0 reserved for the empty (unknown) value."""
    table: dict[str, int] = {"": 0}
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32,
                       count=len(values))


def _incidence(rows: Sequence[Sequence[str]], weights: Mapping[str, float] | None = None
               ) -> sparse.csr_matrix:
    vocab: dict[str, int] = {}
    indptr, indices, data = [0], [], []
    for row in rows:
        for item in dict.fromkeys(row):
            indices.append(vocab.setdefault(item, len(vocab)))
            data.append(weights.get(item, 1.0) if weights is not None else 1.0)
        indptr.append(len(indices))
    return sparse.csr_matrix((np.asarray(data, dtype=np.float64), indices, indptr),
                             shape=(len(rows), max(1, len(vocab))))


@dataclass
class CatalogArrays:
    """What the scorer needs about every article of a build, aligned with its positions."""

    live: npt.NDArray[np.bool_]
    language: npt.NDArray[np.int32]
    publisher: npt.NDArray[np.int32]
    published: FloatArray  # days since the epoch, NaN when unknown
    half_life: FloatArray
    tags_weighted: sparse.csr_matrix
    tags: sparse.csr_matrix
    authors: sparse.csr_matrix

    @classmethod
    def build(cls, ids: Sequence[int], items: Mapping[int, ItemInfo], tag_idf: Mapping[str, float],
              policy: RankingPolicy, site_blocks: frozenset[int]) -> CatalogArrays:
        infos = [items.get(int(a)) or ItemInfo(id=int(a), live=False) for a in ids]
        published = np.asarray([i.published_at.timestamp() / 86400 if i.published_at else np.nan
                                for i in infos], dtype=np.float64)
        tags = [i.tags for i in infos]
        # a tag unknown to the build's IDF table counts 1.0, exactly as ranking.tag_overlap does
        return cls(
            live=np.asarray([i.live and i.id not in site_blocks for i in infos], dtype=bool),
            language=_codes([i.language for i in infos]),
            publisher=_codes([i.publisher for i in infos]),
            published=published,
            half_life=np.asarray([policy.half_life_for(i.content_type) for i in infos]),
            tags_weighted=_incidence(tags, tag_idf), tags=_incidence(tags),
            authors=_incidence([i.authors for i in infos]),
        )


def _pair_sum(left: sparse.csr_matrix, right: sparse.csr_matrix, pages: np.ndarray,
              cands: np.ndarray) -> FloatArray:
    """Row-wise dot products left[pages[i]] . right[cands[i, j]] as a (B, C) array."""
    flat = cands.ravel()
    repeated = left[np.repeat(pages, cands.shape[1])]
    values = np.asarray(repeated.multiply(right[flat]).sum(axis=1), dtype=np.float64).ravel()
    return values.reshape(cands.shape)


def prescore(arrays: CatalogArrays, pages: np.ndarray, cands: np.ndarray, semantic: np.ndarray,
             lexical: np.ndarray, policy: RankingPolicy) -> FloatArray:
    """Scores of ``ranking.rank``'s filter, score and recency stages; -inf where filtered."""
    valid = cands >= 0
    safe = np.where(valid, cands, 0)
    page_col = pages[:, None]
    valid &= (safe != page_col) & arrays.live[safe]
    if policy.same_language:
        page_lang = arrays.language[pages][:, None]
        valid &= (page_lang == 0) | (arrays.language[safe] == page_lang)
    page_pub = arrays.publisher[pages][:, None]
    same_publisher = (page_pub != 0) & (arrays.publisher[safe] == page_pub)
    valid &= ~(same_publisher & (lexical >= policy.near_duplicate_threshold))

    weight = policy.semantic_weight + policy.lexical_weight
    text = (policy.semantic_weight * semantic.astype(np.float64)
            + policy.lexical_weight * lexical.astype(np.float64)) / weight
    total = np.asarray(arrays.tags_weighted[pages].sum(axis=1), dtype=np.float64)
    shared = _pair_sum(arrays.tags_weighted, arrays.tags, pages, safe)
    with np.errstate(invalid="ignore", divide="ignore"):
        overlap = np.where(total > 0, shared / np.where(total > 0, total, 1.0), 0.0)
    authors = _pair_sum(arrays.authors, arrays.authors, pages, safe) > 0
    score = text + policy.tag_weight * overlap + policy.author_weight * authors

    if policy.recency_weight:
        age = arrays.published[pages][:, None] - arrays.published[safe]
        score = score * recency_factors(age, arrays.half_life[safe], policy.recency_weight)
    return np.where(valid, score, -np.inf)


def recency_factors(age_days: np.ndarray, half_life: np.ndarray, weight: float) -> np.ndarray:
    """``ranking.recency_factor`` for arrays of ages (page minus item, days; NaN = undated):
    1 for items as new as the page or newer, undated or of a type that never decays."""
    age = np.asarray(age_days, dtype=np.float64)
    half = np.asarray(half_life, dtype=np.float64)
    decays = (half > 0) & (age > 0) & ~np.isnan(age)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        decay = np.power(0.5, np.where(decays, age / np.where(half > 0, half, 1.0), 0.0))
    result: np.ndarray = np.where(decays, 1.0 - weight * (1.0 - decay), 1.0)
    return result
