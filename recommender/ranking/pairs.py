"""Catalogue items as the arrays ``formulas.py`` reads, and the formulas applied to (page,
candidate) pairs.

Both ranking paths go through ``pair_exclusions`` and ``pair_scores``: ``stages.py`` with one
page and its candidates (one row), ``batch.py`` with every article of a build (a row per page of
a batch). So a formula changed in ``formulas.py`` changes both, and they cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.catalog.items import ItemInfo
from recommender.ranking import formulas
from recommender.ranking.formulas import BoolArray, FloatArray, Scores
from recommender.ranking.policy import RankingPolicy

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Labels:
    """Which labels (tags, or authors) each item carries, for vectorised membership tests.

    A label is a column number (``vocab``); each (item, label) is one sorted integer key, so "does
    item i carry label l" for a whole batch of pairs is one ``searchsorted``.
    """

    vocab: dict[str, int]
    keys: IntArray

    @classmethod
    def of(cls, rows: Sequence[Sequence[str]]) -> Labels:
        vocab: dict[str, int] = {}
        pairs = [(item, vocab.setdefault(label, len(vocab)))
                 for item, row in enumerate(rows) for label in row]
        width = max(1, len(vocab))
        keys = np.unique(np.fromiter((item * width + label for item, label in pairs),
                                     dtype=np.int64, count=len(pairs)))
        return cls(vocab, keys)

    def columns(self, labels: Sequence[str]) -> list[int]:
        return [self.vocab.get(label, -1) for label in labels]

    def carries(self, items: IntArray, columns: IntArray) -> BoolArray:
        """Whether ``items[...]`` carries label ``columns[...]`` (broadcast; -1: never)."""
        items, columns = np.broadcast_arrays(np.asarray(items), np.asarray(columns))
        wanted = items.astype(np.int64) * max(1, len(self.vocab)) + columns
        found = np.zeros(wanted.shape, dtype=bool)
        if len(self.keys):
            at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
            found = (self.keys[at] == wanted) & (columns >= 0)
        return found


@dataclass(frozen=True)
class ItemArrays:
    """What the formulas need about some items (a page and its candidates, or a whole build),
    one entry per item in the order given; each column is built the first time it is read."""

    infos: Sequence[ItemInfo]
    tag_idf: Mapping[str, float]
    policy: RankingPolicy

    def _column(self, values: Iterable[object], dtype: type) -> npt.NDArray[Any]:
        return np.fromiter(values, dtype=dtype, count=len(self.infos))

    @functools.cached_property
    def ids(self) -> IntArray:
        return self._column((i.id for i in self.infos), np.int64)

    @functools.cached_property
    def live(self) -> BoolArray:
        return self._column((i.live for i in self.infos), bool)

    @functools.cached_property
    def language(self) -> formulas.CodeArray:
        return formulas.codes([i.language for i in self.infos])

    @functools.cached_property
    def publisher(self) -> formulas.CodeArray:
        return formulas.codes([i.publisher for i in self.infos])

    @functools.cached_property
    def published(self) -> FloatArray:
        """``formulas.microseconds``: NaN when undated."""
        return self._column((formulas.microseconds(i.published_at) for i in self.infos),
                            np.float64)

    @functools.cached_property
    def half_life(self) -> FloatArray:
        return self._column((self.policy.half_life_for(i.content_type) for i in self.infos),
                            np.float64)

    @functools.cached_property
    def tags(self) -> Labels:
        return Labels.of([i.tags for i in self.infos])

    @functools.cached_property
    def authors(self) -> Labels:
        return Labels.of([i.authors for i in self.infos])


def pair_exclusions(items: ItemArrays, pages: IntArray, cands: IntArray, *,
                    lexical: npt.ArrayLike, blocked: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Each (page, candidate) pair's ``formulas.exclusions`` code (``KEPT``: ranked).

    ``pages`` (B) and ``cands`` (B x C) are positions in ``items``; ``lexical`` and ``blocked``
    are B x C.
    """
    page_col = pages[:, None]
    return formulas.exclusions(
        items.policy, is_page=items.ids[cands] == items.ids[page_col], live=items.live[cands],
        blocked=blocked, page_language=items.language[page_col], language=items.language[cands],
        page_publisher=items.publisher[page_col], publisher=items.publisher[cands],
        lexical=lexical)


def pair_scores(items: ItemArrays, pages: IntArray, cands: IntArray, *,
                semantic: npt.ArrayLike, lexical: npt.ArrayLike) -> Scores:
    """Each (page, candidate) pair's ``formulas.blend`` (positions as in ``pair_exclusions``)."""
    weights, first, tag_columns = _tag_slots(items, pages)
    overlap = formulas.tag_overlap(weights[:, None, :], first[:, None, :],
                                   items.tags.carries(cands[:, :, None], tag_columns[:, None, :]))
    author_columns = _padded([items.authors.columns(items.infos[p].authors) for p in pages])
    shares_author = items.authors.carries(cands[:, :, None], author_columns[:, None, :]).any(-1)
    page_col = pages[:, None]
    age = formulas.age_days(items.published[page_col], items.published[cands])
    recency = formulas.recency_factor(age, items.half_life[cands], items.policy.recency_weight)
    return formulas.blend(items.policy, semantic=semantic, lexical=lexical, overlap=overlap,
                          shares_author=shares_author, recency=recency)


def _tag_slots(items: ItemArrays, pages: IntArray) -> tuple[FloatArray, BoolArray, IntArray]:
    """Each page's ``formulas.tag_slots`` and its tags' columns, padded to the longest page
    (weight 0, not first, column -1: a padding slot adds nothing)."""
    slots = [formulas.tag_slots(items.infos[p].tags, items.tag_idf) for p in pages]
    width = max((len(w) for w, _ in slots), default=0)
    weights = np.zeros((len(slots), width), dtype=np.float64)
    first = np.zeros((len(slots), width), dtype=bool)
    for row, (w, f) in enumerate(slots):
        weights[row, :len(w)] = w
        first[row, :len(f)] = f
    columns = _padded([items.tags.columns(items.infos[p].tags) for p in pages])
    return weights, first, columns


def _padded(rows: Sequence[Sequence[int]]) -> IntArray:
    """Rows of columns, padded with -1 (no label) to the longest."""
    out = np.full((len(rows), max((len(r) for r in rows), default=0)), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out
