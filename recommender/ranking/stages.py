"""One page's ranking: small pure stages over its candidates, each recording its signal.

Stages: filter -> score (with recency) -> diversity -> curation -> fallback. None of them touches
the database or the model, so they are tested with hand-made candidates, and an editor can be
shown exactly what each stage did to each item.

The formulas (filter rules, score blend, recency, duplicates) live in ``formulas.py``; the filter
and score stages apply them through ``pairs.py``, as ``batch.py`` does for every list of a build.
Change a formula there, never here. This module owns the rest: the reasons editors read, MMR,
pins and blocks, the fallback filler, and how far down the list ``rank`` can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.catalog.items import ItemInfo
from recommender.embedding.encoder import Vectors
from recommender.ranking import formulas
from recommender.ranking.pairs import ItemArrays, pair_exclusions, pair_scores
from recommender.ranking.policy import RankingPolicy


@dataclass(slots=True)
class Candidate:
    """One possible related item and every signal that moved it."""

    info: ItemInfo
    semantic: float = 0.0
    lexical: float = 0.0
    score: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)
    fallback: bool = False
    pinned: bool = False
    note: str = ""

    @property
    def id(self) -> int:
        return self.info.id


@dataclass(frozen=True, slots=True)
class Dropped:
    candidate: Candidate
    reason: str


@dataclass
class Ranked:
    """The outcome: the list readers get, the next ones below the cut, and what was removed."""

    items: list[Candidate]
    below_cut: list[Candidate]
    dropped: list[Dropped]


# what editors are shown for each of the filter's rules (formulas.exclusions)
_REASONS: dict[int, Callable[[ItemInfo], str]] = {
    formulas.NOT_LIVE: lambda _: "not published",
    formulas.BLOCKED: lambda _: "blocked",
    formulas.OTHER_LANGUAGE: lambda info: f"language {info.language}",
    formulas.COPY_OF_PAGE: lambda _: "near-duplicate of the page",
}


def _one_page(page: ItemInfo, candidates: Sequence[Candidate], policy: RankingPolicy,
              tag_idf: Mapping[str, float]) -> tuple[ItemArrays, npt.NDArray[np.int64],
                                                     npt.NDArray[np.int64]]:
    """This page and its candidates as ``pairs`` arrays: one page (row 0), C candidates."""
    items = ItemArrays([page, *(c.info for c in candidates)], tag_idf, policy)
    return items, np.zeros(1, dtype=np.int64), np.arange(1, len(candidates) + 1)[None, :]


def filter_candidates(page: ItemInfo, candidates: Iterable[Candidate], policy: RankingPolicy, *,
                      blocked: frozenset[int] = frozenset()) -> tuple[list[Candidate], list[Dropped]]:
    """Drop the page itself, anything not live, blocked, another language, or a copy of the page
    (the rules: ``formulas.exclusions``), and any candidate given twice."""
    candidates = list(candidates)
    items, pages, cands = _one_page(page, candidates, policy, {})
    reasons = pair_exclusions(items, pages, cands, lexical=[[c.lexical for c in candidates]],
                              blocked=[[c.id in blocked for c in candidates]])[0]
    return sort_out(candidates, reasons.tolist())


def sort_out(candidates: Sequence[Candidate], reasons: Sequence[int]
             ) -> tuple[list[Candidate], list[Dropped]]:
    """Candidates kept and dropped by their ``formulas.exclusions`` codes, each dropped one with
    the reason editors read; a candidate given twice is kept once."""
    kept: list[Candidate] = []
    dropped: list[Dropped] = []
    seen: set[int] = set()
    for cand, code in zip(candidates, reasons, strict=True):
        if code == formulas.THE_PAGE:
            dropped.append(Dropped(cand, "the page itself"))
        elif cand.id in seen:
            dropped.append(Dropped(cand, "duplicate candidate"))
        elif code != formulas.KEPT:
            dropped.append(Dropped(cand, _REASONS[code](cand.info)))
        else:
            seen.add(cand.id)
            kept.append(cand)
    return kept, dropped


def score_candidates(page: ItemInfo, candidates: list[Candidate], policy: RankingPolicy,
                     tag_idf: Mapping[str, float]) -> None:
    """Blend meaning, words, shared tags, shared authors and recency into one score, in place
    (``formulas.blend``), recording each signal for editors."""
    if not candidates:
        return
    items, pages, cands = _one_page(page, candidates, policy, tag_idf)
    scores = pair_scores(items, pages, cands, semantic=[[c.semantic for c in candidates]],
                         lexical=[[c.lexical for c in candidates]])
    record_scores(candidates, scores.take(0))


def record_scores(candidates: Sequence[Candidate], scores: formulas.Scores) -> None:
    """Each candidate's score, and its signals as editors see them (rounded to 4 places)."""
    columns = zip(scores.text.tolist(), scores.tags.tolist(), scores.author.tolist(),
                  scores.recency.tolist(), scores.score.tolist(), strict=True)
    for cand, (text, tags, author, recency, score) in zip(candidates, columns, strict=True):
        cand.signals.update(semantic=round(cand.semantic, 4), lexical=round(cand.lexical, 4),
                            text=round(text, 4), tags=round(tags, 4), author=round(author, 4),
                            recency=round(recency, 4))
        cand.score = score


Pairwise = Callable[[Sequence[int]], tuple[np.ndarray, np.ndarray]]


def pairwise_from(vectors: Mapping[int, Vectors],
                  lexical_rows: Mapping[int, Any] | None = None) -> Pairwise:
    """A ``Pairwise`` over plain mappings (tests, drafts): semantic and lexical matrices."""

    def pairwise(ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        n = len(ids)
        dim = next((len(vectors[i]) for i in ids if i in vectors), 1)
        mat = np.asarray([vectors[i] if i in vectors else np.zeros(dim, np.float32) for i in ids],
                         dtype=np.float32).reshape(n, dim)
        lexical = np.zeros((n, n), dtype=np.float32)
        if lexical_rows is not None:
            present = [k for k, i in enumerate(ids) if i in lexical_rows]
            if present:
                from scipy import sparse

                from recommender.ranking.lexical import gram

                stacked = sparse.vstack([lexical_rows[ids[k]] for k in present]).tocsr()
                lexical[np.ix_(present, present)] = gram(stacked)
        return mat @ mat.T, lexical

    return pairwise


def diversify(candidates: list[Candidate], pairwise: Pairwise, policy: RankingPolicy,
              pool: int) -> tuple[list[Candidate], list[Dropped]]:
    """Collapse near-duplicates among the results, then order the top ``pool`` by MMR."""
    ordered = sorted(candidates, key=lambda c: c.score, reverse=True)
    head, tail = ordered[:pool + DUPLICATE_SLACK], ordered[pool + DUPLICATE_SLACK:]
    if not head:
        return [], []
    semantic, lexical = pairwise([c.id for c in head])
    copies = formulas.one_text(lexical, policy.duplicate_collapse_threshold)
    kept: list[int] = []
    dropped: list[Dropped] = []
    for j, cand in enumerate(head):
        twins = [i for i in kept if copies[i, j]]
        if twins:
            dropped.append(Dropped(cand, f"near-duplicate of article {head[twins[0]].id}"))
        else:
            kept.append(j)
    top, rest = kept[:pool], [head[j] for j in kept[pool:]] + tail
    for j in top:
        head[j].signals["diversity"] = 0.0
    if policy.mmr_lambda >= 1.0 or len(top) < 2:
        return [head[j] for j in top] + rest, dropped
    lam = policy.mmr_lambda
    chosen: list[int] = []
    remaining = list(top)
    while remaining:
        if chosen:
            redundancy = semantic[np.ix_(remaining, chosen)].max(axis=1)
        else:
            redundancy = np.zeros(len(remaining), dtype=np.float32)
        scores = np.asarray([head[j].score for j in remaining])
        values = lam * scores - (1 - lam) * redundancy
        best = int(np.argmax(values))
        pick = remaining.pop(best)
        head[pick].signals["diversity"] = round(-float((1 - lam) * redundancy[best]), 4)
        chosen.append(pick)
    return [head[j] for j in chosen] + rest, dropped


def apply_curation(ordered: list[Candidate], pins: Sequence[tuple[Candidate, int]],
                   blocked: frozenset[int]) -> list[Candidate]:
    """Blocked items out, pinned items in at their (1-based) positions, the rest shifted down."""
    pinned_ids = {c.id for c, _ in pins}
    rest = [c for c in ordered if c.id not in blocked and c.id not in pinned_ids]
    out = list(rest)
    for cand, position in sorted(pins, key=lambda p: p[1]):
        if cand.id in blocked or not cand.info.live:
            continue
        cand.pinned = True
        cand.signals["curation"] = float(position)
        cand.note = f"pinned at position {position}"
        out.insert(min(position - 1, len(out)), cand)
    return out


def apply_fallback(ordered: list[Candidate], fallback_pool: Iterable[Candidate], k: int,
                   policy: RankingPolicy) -> tuple[list[Candidate], list[Dropped]]:
    """Keep items above the quality floor; fill up to ``k`` from the section's recent articles."""
    kept = [c for c in ordered if c.pinned or c.score >= policy.quality_floor]
    dropped = [Dropped(c, "below the quality floor") for c in ordered
               if not c.pinned and c.score < policy.quality_floor]
    if len(kept) >= k or not policy.fallback:
        return kept, dropped
    present = {c.id for c in kept}
    for cand in fallback_pool:
        if len(kept) >= k:
            break
        if cand.id in present or not cand.info.live:
            continue
        cand.fallback = True
        cand.note = "fallback: recent in the same section"
        cand.signals["fallback"] = 1.0
        kept.append(cand)
        present.add(cand.id)
    return kept, dropped


DUPLICATE_SLACK = 12  # extra candidates diversified, so collapsed duplicates leave no hole


def diversity_pool(k: int, below_cut: int, pins: int = 0) -> int:
    """How many top candidates MMR orders; everything past ``pool + DUPLICATE_SLACK`` keeps
    its score order, which is what lets the batch path rank only the best few per page."""
    return max(2 * k, k + below_cut, k + 2 * pins, 20)


def reach(k: int, below_cut: int, pins: int, blocked: int) -> int:
    """How many of a page's best-scored candidates ``rank`` can ever place: the diversity pool,
    the duplicates it may collapse, and as many again as blocked items may take out. The batch
    path (``batch.candidates_by_page``) keeps only these."""
    return diversity_pool(k, below_cut, pins) + DUPLICATE_SLACK + blocked


def rank(page: ItemInfo, candidates: list[Candidate], policy: RankingPolicy, k: int, *,
         tag_idf: Mapping[str, float], pairwise: Pairwise,
         blocked: frozenset[int] = frozenset(), pins: Sequence[tuple[Candidate, int]] = (),
         fallback_pool: Iterable[Candidate] = (), below_cut: int = 5) -> Ranked:
    """Run every stage and cut at ``k`` (the next ``below_cut`` are kept for editors)."""
    kept, dropped = filter_candidates(page, candidates, policy, blocked=blocked)
    score_candidates(page, kept, policy, tag_idf)
    return rank_scored(page, kept, dropped, policy, k, pairwise=pairwise, blocked=blocked,
                       pins=pins, fallback_pool=fallback_pool, below_cut=below_cut)


def rank_scored(page: ItemInfo, kept: list[Candidate], dropped: list[Dropped],
                policy: RankingPolicy, k: int, *, pairwise: Pairwise,
                blocked: frozenset[int] = frozenset(), pins: Sequence[tuple[Candidate, int]] = (),
                fallback_pool: Iterable[Candidate] = (), below_cut: int = 5) -> Ranked:
    """The stages after the score (diversity, curation, fallback) on candidates already filtered
    and scored: by ``rank``, or for every page at once by ``batch.candidates_by_page``."""
    pool = diversity_pool(k, below_cut, len(pins))
    ordered, dup_dropped = diversify(kept, pairwise, policy, pool)
    pins, pin_dropped = admit_pins(page, pins, policy, blocked)
    curated = apply_curation(ordered, pins, blocked)
    # anything a stage removed (a copy of the page, a duplicate) must not come back as filler
    removed = {d.candidate.id for d in dropped + dup_dropped} | blocked | {page.id}
    pool_filtered = _admitted(page, (c for c in fallback_pool if c.id not in removed), policy,
                              blocked)
    final, floor_dropped = apply_fallback(curated, pool_filtered, k, policy)
    return Ranked(items=final[:k], below_cut=final[k:k + below_cut],
                  dropped=dropped + dup_dropped + pin_dropped + floor_dropped)


def admit_pins(page: ItemInfo, pins: Sequence[tuple[Candidate, int]], policy: RankingPolicy,
               blocked: frozenset[int]) -> tuple[list[tuple[Candidate, int]], list[Dropped]]:
    """The pins readers may see, and those left out (reported): the filter's rules apply to pins
    (not the page, live, not blocked, the page's language), except "a copy of the page"."""
    cands = [c for c, _ in pins]
    items, pages, cols = _one_page(page, cands, policy, {})
    codes = pair_exclusions(items, pages, cols, lexical=np.zeros((1, len(cands))),
                            blocked=[[c.id in blocked for c in cands]])[0].tolist()
    return ([(c, p) for (c, p), code in zip(pins, codes, strict=True) if code == formulas.KEPT],
            [Dropped(c, f"pin not shown: {_REASONS[code](c.info)}")
             for c, code in zip(cands, codes, strict=True)
             if code not in (formulas.KEPT, formulas.THE_PAGE)])


def _admitted(page: ItemInfo, pool: Iterable[Candidate], policy: RankingPolicy,
              blocked: frozenset[int]) -> Iterator[Candidate]:
    """The filler that passes the filter (lazily: only a list short enough to need it)."""
    yield from filter_candidates(page, pool, policy, blocked=blocked)[0]
