"""The ranking pipeline: small pure stages over a candidate list, each recording its signal.

Stages: filter -> score -> recency -> diversity -> curation -> fallback. None of them touches the
database or the model, so they are tested with hand-made candidates, and an editor can be shown
exactly what each stage did to each item.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.catalog.items import ItemInfo
from recommender.embedding.encoder import Vectors
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


def filter_candidates(page: ItemInfo, candidates: Iterable[Candidate], policy: RankingPolicy, *,
                      blocked: frozenset[int] = frozenset()) -> tuple[list[Candidate], list[Dropped]]:
    """Drop the page itself, anything not live, blocked, another language, or a copy of the page."""
    kept: list[Candidate] = []
    dropped: list[Dropped] = []
    seen: set[int] = set()
    for cand in candidates:
        info = cand.info
        reason = ""
        if info.id == page.id or info.id in seen:
            reason = "the page itself" if info.id == page.id else "duplicate candidate"
        elif not info.live:
            reason = "not published"
        elif info.id in blocked:
            reason = "blocked"
        elif policy.same_language and page.language and info.language != page.language:
            reason = f"language {info.language}"
        elif cand.lexical >= policy.near_duplicate_threshold and page.publisher \
                and page.publisher == info.publisher:
            # the same publication's text lightly edited: an update or a re-post of the page
            reason = "near-duplicate of the page"
        if reason:
            dropped.append(Dropped(cand, reason))
        else:
            seen.add(info.id)
            kept.append(cand)
    return kept, dropped


def tag_overlap(page_tags: Sequence[str], tags: Sequence[str], tag_idf: Mapping[str, float]) -> float:
    """Share of the page's tag weight (IDF) that the candidate also carries, in [0, 1]."""
    if not page_tags or not tags:
        return 0.0
    total = sum(tag_idf.get(t, 1.0) for t in page_tags)
    shared = sum(tag_idf.get(t, 1.0) for t in set(page_tags) & set(tags))
    return shared / total if total else 0.0


def score_candidates(page: ItemInfo, candidates: list[Candidate], policy: RankingPolicy,
                     tag_idf: Mapping[str, float]) -> None:
    """Blend meaning, words, shared tags and shared authors into one score, in place."""
    weight = policy.semantic_weight + policy.lexical_weight
    page_authors = set(page.authors)
    for cand in candidates:
        text = (policy.semantic_weight * cand.semantic + policy.lexical_weight * cand.lexical) / weight
        tags = policy.tag_weight * tag_overlap(page.tags, cand.info.tags, tag_idf)
        author = policy.author_weight if page_authors & set(cand.info.authors) else 0.0
        cand.signals.update(semantic=round(cand.semantic, 4), lexical=round(cand.lexical, 4),
                            text=round(text, 4), tags=round(tags, 4), author=round(author, 4))
        cand.score = text + tags + author


def recency_factor(page: ItemInfo, info: ItemInfo, policy: RankingPolicy) -> float:
    """1.0 for items as new as the page (or newer); decays with the item's type half-life."""
    half_life = policy.half_life_for(info.content_type)
    if not policy.recency_weight or half_life <= 0 or page.published_at is None \
            or info.published_at is None:
        return 1.0
    age_days = (page.published_at - info.published_at).total_seconds() / 86400
    if age_days <= 0:
        return 1.0
    decay = math.pow(0.5, age_days / half_life)
    return 1.0 - policy.recency_weight * (1.0 - decay)


def apply_recency(page: ItemInfo, candidates: list[Candidate], policy: RankingPolicy) -> None:
    for cand in candidates:
        factor = recency_factor(page, cand.info, policy)
        cand.signals["recency"] = round(factor, 4)
        cand.score *= factor


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
    kept: list[int] = []
    dropped: list[Dropped] = []
    for j, cand in enumerate(head):
        twins = [i for i in kept if lexical[i, j] >= policy.duplicate_collapse_threshold]
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


def rank(page: ItemInfo, candidates: list[Candidate], policy: RankingPolicy, k: int, *,
         tag_idf: Mapping[str, float], pairwise: Pairwise,
         blocked: frozenset[int] = frozenset(), pins: Sequence[tuple[Candidate, int]] = (),
         fallback_pool: Iterable[Candidate] = (), below_cut: int = 5) -> Ranked:
    """Run every stage and cut at ``k`` (the next ``below_cut`` are kept for editors)."""
    kept, dropped = filter_candidates(page, candidates, policy, blocked=blocked)
    score_candidates(page, kept, policy, tag_idf)
    apply_recency(page, kept, policy)
    pool = diversity_pool(k, below_cut, len(pins))
    ordered, dup_dropped = diversify(kept, pairwise, policy, pool)
    pins = [(c, p) for c, p in pins if c.id != page.id]
    curated = apply_curation(ordered, pins, blocked)
    # anything a stage removed (a copy of the page, a duplicate) must not come back as filler
    removed = {d.candidate.id for d in dropped + dup_dropped} | blocked | {page.id}
    pool_filtered = (c for c in fallback_pool if c.id not in removed)
    final, floor_dropped = apply_fallback(curated, pool_filtered, k, policy)
    return Ranked(items=final[:k], below_cut=final[k:k + below_cut],
                  dropped=dropped + dup_dropped + floor_dropped)
