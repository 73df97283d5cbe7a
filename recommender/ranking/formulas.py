"""Every ranking formula, written once, over numpy arrays of (page, candidate) pairs.

Change a rule or a score here and both ranking paths change with it: ``stages.py`` filters and
scores one page's candidates (what editors see explained) and ``batch.py`` every page of a build,
a batch at a time (arrays of pages x candidates). ``pairs.py`` turns catalogue items into the
arrays read here; nothing in this module knows about articles, databases or the model.

The arithmetic is kept bit-for-bit stable (sums in a fixed order, ``math.pow`` for the decay): the
nightly build and the live preview must store and show the very same scores on any machine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.ranking.policy import RankingPolicy

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
CodeArray = npt.NDArray[np.int32]

# -- the candidate filter -----------------------------------------------------------------------
# Why a candidate is not ranked, in the order the rules are checked (the first that applies is
# the reason an editor is shown; the texts live in stages.py).
KEPT, THE_PAGE, NOT_LIVE, BLOCKED, OTHER_LANGUAGE, COPY_OF_PAGE = range(6)


def codes(values: Sequence[str]) -> CodeArray:
    """Integer codes of labels (language, publisher) with 0 reserved for unknown (empty)."""
    table: dict[str, int] = {"": 0}
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32,
                       count=len(values))


def other_language(page_language: npt.ArrayLike, language: npt.ArrayLike,
                   unknown: object = 0) -> BoolArray:
    """The language rule: a reader never gets an article in another language than the page.

    Works on ``codes`` (``unknown`` = 0) or on the labels themselves (``unknown`` = ""): a page
    of unknown language accepts any, and an article of unknown language is "another language"
    to a page whose language is known. Every stage applies this one rule (the candidate filter
    through ``exclusions``; the filler and pins through ``stages.filter_candidates``; readers'
    SQL through ``readers.same_language_clause``, tested to agree with it).
    """
    page, lang = np.asarray(page_language), np.asarray(language)
    result: BoolArray = (page != unknown) & (lang != page)
    return result


def copy_of_page(lexical: npt.ArrayLike, same_publisher: npt.ArrayLike,
                 policy: RankingPolicy) -> BoolArray:
    """The same publication's text lightly edited (an update or a re-post of the page)."""
    result: BoolArray = np.asarray(same_publisher, dtype=bool) & (
        np.asarray(lexical) >= policy.near_duplicate_threshold)
    return result


def exclusions(policy: RankingPolicy, *, is_page: npt.ArrayLike, live: npt.ArrayLike,
               blocked: npt.ArrayLike, page_language: npt.ArrayLike, language: npt.ArrayLike,
               page_publisher: npt.ArrayLike, publisher: npt.ArrayLike,
               lexical: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Per pair, the first rule that keeps the candidate out of the page's list (``KEPT``: none).

    Languages and publishers are ``codes`` (0 = unknown): a page of unknown language accepts
    any, and two unknown publishers are never "the same publication".
    """
    page_language, language = np.asarray(page_language), np.asarray(language)
    page_publisher, publisher = np.asarray(page_publisher), np.asarray(publisher)
    same_publisher = (page_publisher != 0) & (publisher == page_publisher)
    rules = [(THE_PAGE, np.asarray(is_page, dtype=bool)), (NOT_LIVE, ~np.asarray(live, dtype=bool)),
             (BLOCKED, np.asarray(blocked, dtype=bool))]
    if policy.same_language:
        rules.append((OTHER_LANGUAGE, other_language(page_language, language)))
    rules.append((COPY_OF_PAGE, copy_of_page(lexical, same_publisher, policy)))
    shape = np.broadcast_shapes(*(mask.shape for _, mask in rules))
    reason = np.zeros(shape, dtype=np.int8)
    for code, mask in reversed(rules):  # earlier rules overwrite later ones: first one wins
        reason[np.broadcast_to(mask, shape)] = code
    return reason


# -- duplicates among the results ---------------------------------------------------------------
# Two results whose TF-IDF cosine reaches duplicate_collapse_threshold are one text (wire copies):
# only the better placed is kept. Such pairs are always near in meaning too, so their lexical
# cosine is only worth computing when their raw embeddings are at least this alike.
ONE_TEXT_MIN_SEMANTIC = 0.9


def may_be_one_text(raw_semantic: npt.ArrayLike) -> BoolArray:
    """Pairs worth a lexical check for being one text (``SearchSpace.pairwise``)."""
    result: BoolArray = np.asarray(raw_semantic) >= ONE_TEXT_MIN_SEMANTIC
    return result


def one_text(lexical: npt.ArrayLike, threshold: float) -> BoolArray:
    """Pairs of articles that are the same text filed twice (``policy.duplicate_collapse_threshold``;
    the smoothing's ``twin_threshold``, which is that threshold as the build recorded it)."""
    result: BoolArray = np.asarray(lexical) >= threshold
    return result


# -- the score ----------------------------------------------------------------------------------
def text_score(semantic: npt.ArrayLike, lexical: npt.ArrayLike, semantic_weight: float,
               lexical_weight: float) -> FloatArray:
    """Meaning (embedding cosine) and words (TF-IDF cosine), as a weighted mean."""
    total = semantic_weight + lexical_weight
    result: FloatArray = (semantic_weight * np.asarray(semantic, dtype=np.float64)
                          + lexical_weight * np.asarray(lexical, dtype=np.float64)) / total
    return result


def tag_slots(page_tags: Sequence[str], tag_idf: Mapping[str, float]
              ) -> tuple[FloatArray, BoolArray]:
    """The page's tags as weights (IDF; 1.0 for a tag the build never saw) and, per slot, whether
    it is the tag's first occurrence: a tag given twice counts twice in the page's total but is
    shared once (as the ranker always scored it)."""
    weights = np.fromiter((tag_idf.get(t, 1.0) for t in page_tags), dtype=np.float64,
                          count=len(page_tags))
    first = np.fromiter((t not in page_tags[:i] for i, t in enumerate(page_tags)), dtype=bool,
                        count=len(page_tags))
    return weights, first


def tag_overlap(weights: npt.ArrayLike, first: npt.ArrayLike, carried: npt.ArrayLike
                ) -> FloatArray:
    """Share of the page's tag weight that the candidate also carries, in [0, 1].

    The page's tags are on the last axis: ``weights`` and ``first`` (``tag_slots``; 0 and False
    pad a page with fewer tags) broadcast against ``carried``, which says per pair whether the
    candidate has that slot's tag. Slots are added one by one in the page's order, so the per-page
    and the batch paths sum in the same order and get the same bits.
    """
    w = np.asarray(weights, dtype=np.float64)
    shared_slot = np.asarray(carried, dtype=bool) & np.asarray(first, dtype=bool)
    total: FloatArray = np.zeros(w.shape[:-1], dtype=np.float64)
    shared: FloatArray = np.zeros(np.broadcast_shapes(w.shape, shared_slot.shape)[:-1],
                                  dtype=np.float64)
    for slot in range(w.shape[-1]):
        total = total + w[..., slot]
        shared = shared + np.where(shared_slot[..., slot], w[..., slot], 0.0)
    result: FloatArray = np.where(total != 0, shared / np.where(total != 0, total, 1.0), 0.0)
    return result


def microseconds(moment: datetime | None) -> float:
    """A publication time as microseconds since the epoch (exact in a float64; NaN = undated).

    Ages are differences of these, so they are exact to the microsecond, as a timedelta is."""
    if moment is None:
        return math.nan
    epoch = _EPOCH if moment.tzinfo is not None else _EPOCH.replace(tzinfo=None)
    return float((moment - epoch) // _MICROSECOND)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def age_days(page_published: npt.ArrayLike, published: npt.ArrayLike) -> FloatArray:
    """How much older than the page each candidate is, in days (``microseconds``; NaN = undated)."""
    diff = np.asarray(page_published, dtype=np.float64) - np.asarray(published, dtype=np.float64)
    result: FloatArray = diff / 1e6 / 86400
    return result


def recency_factor(age: npt.ArrayLike, half_life: npt.ArrayLike, weight: float) -> FloatArray:
    """1 for items as new as the page or newer, undated, or of a type that never decays
    (half-life 0); else ``1 - weight * (1 - 0.5 ** (age / half_life))``.

    The power is ``math.pow`` element by element: numpy's SIMD power differs from it in the last
    bit on some CPUs, and a list must not depend on the machine that computed it.
    """
    age_b, half = np.broadcast_arrays(np.asarray(age, dtype=np.float64),
                                      np.asarray(half_life, dtype=np.float64))
    factor: FloatArray = np.ones(age_b.shape, dtype=np.float64)
    decays = (half > 0) & (age_b > 0)  # NaN (undated) compares False
    if weight and decays.any():
        exponents = (age_b[decays] / half[decays]).tolist()
        decay = np.fromiter((math.pow(0.5, e) for e in exponents), dtype=np.float64,
                            count=len(exponents))
        factor[decays] = 1.0 - weight * (1.0 - decay)
    return factor


@dataclass(frozen=True)
class Scores:
    """Each signal's contribution per pair, and the blended score (what the ranker sorts by)."""

    text: FloatArray
    tags: FloatArray
    author: FloatArray
    recency: FloatArray
    score: FloatArray

    def take(self, index: Any) -> Scores:
        """The same signals for some pairs only (``index`` as numpy indexes an array)."""
        return Scores(self.text[index], self.tags[index], self.author[index],
                      self.recency[index], self.score[index])


def blend(policy: RankingPolicy, *, semantic: npt.ArrayLike, lexical: npt.ArrayLike,
          overlap: npt.ArrayLike, shares_author: npt.ArrayLike, recency: npt.ArrayLike) -> Scores:
    """``(text + tag_weight * tag overlap + author bonus) * recency factor``."""
    text = text_score(semantic, lexical, policy.semantic_weight, policy.lexical_weight)
    tags: FloatArray = policy.tag_weight * np.asarray(overlap, dtype=np.float64)
    author: FloatArray = np.where(np.asarray(shares_author, dtype=bool), policy.author_weight, 0.0)
    factor = np.asarray(recency, dtype=np.float64)
    return Scores(text=text, tags=tags, author=author, recency=factor,
                  score=(text + tags + author) * factor)
