"""Ranking metrics for the evaluation command (graded nDCG, P@k, MRR, recall, correlations)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np


def dcg(gains: Sequence[float]) -> float:
    """Linear gain (g / log2(rank + 1)), as the reference figures of ../shared/data use."""
    return float(sum(g / math.log2(i + 2) for i, g in enumerate(gains)))


def ndcg_at(ranked: Sequence[str], judged: Mapping[str, float], k: int) -> float:
    ideal = dcg(sorted(judged.values(), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    return dcg([judged.get(d, 0.0) for d in ranked[:k]]) / ideal


def precision_at(ranked: Sequence[str], judged: Mapping[str, float], k: int) -> float:
    return sum(1 for d in ranked[:k] if judged.get(d, 0) > 0) / k


def recall_at(ranked: Sequence[str], judged: Mapping[str, float], k: int) -> float:
    relevant = sum(1 for g in judged.values() if g > 0)
    if not relevant:
        return 0.0
    return sum(1 for d in ranked[:k] if judged.get(d, 0) > 0) / relevant


def reciprocal_rank(ranked: Sequence[str], judged: Mapping[str, float]) -> float:
    for i, d in enumerate(ranked, start=1):
        if judged.get(d, 0) > 0:
            return 1.0 / i
    return 0.0


def summarise(rankings: Mapping[str, Sequence[str]], judgments: Mapping[str, Mapping[str, float]],
              k: int) -> dict[str, float]:
    """Mean metrics over the queries that have judgments."""
    queries = [q for q in judgments if q in rankings]
    if not queries:
        return {f"ndcg@{k}": 0.0, "p@5": 0.0, "mrr": 0.0, f"recall@{k}": 0.0}
    return {
        f"ndcg@{k}": round(float(np.mean([ndcg_at(rankings[q], judgments[q], k) for q in queries])), 4),
        "p@5": round(float(np.mean([precision_at(rankings[q], judgments[q], 5) for q in queries])), 4),
        "mrr": round(float(np.mean([reciprocal_rank(rankings[q], judgments[q]) for q in queries])), 4),
        f"recall@{k}": round(float(np.mean([recall_at(rankings[q], judgments[q], k)
                                            for q in queries])), 4),
    }


def coverage(rankings: Mapping[str, Sequence[str]], catalogue: int, k: int) -> float:
    """Share of the catalogue recommended at least once in the top k of any list."""
    seen = {d for ranked in rankings.values() for d in ranked[:k]}
    return round(len(seen) / catalogue, 4) if catalogue else 0.0


def correlations(system: Sequence[float], human: Sequence[float]) -> dict[str, float]:
    from scipy.stats import pearsonr, spearmanr

    if len(system) < 3:
        return {"pearson": 0.0, "spearman": 0.0}
    return {"pearson": round(float(pearsonr(system, human)[0]), 4),
            "spearman": round(float(spearmanr(system, human)[0]), 4)}
