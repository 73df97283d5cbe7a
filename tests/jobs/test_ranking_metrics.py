"""The evaluation's ranking metrics: graded nDCG with linear gain, P@k, recall, MRR, coverage,
the means over queries and the correlations of a pair-rated set."""

from __future__ import annotations

import math

import pytest

from recommender.jobs.ranking_metrics import (
    correlations,
    coverage,
    dcg,
    ndcg_at,
    precision_at,
    recall_at,
    reciprocal_rank,
    summarise,
)


def test_ndcg_uses_linear_gain_and_the_ideal_order() -> None:
    judged = {"a": 2.0, "b": 1.0}
    assert ndcg_at(["a", "b", "x"], judged, 10) == pytest.approx(1.0)
    swapped = (1 / math.log2(2) + 2 / math.log2(3)) / (2 / math.log2(2) + 1 / math.log2(3))
    assert ndcg_at(["b", "a"], judged, 10) == pytest.approx(swapped)
    assert ndcg_at(["x", "y"], judged, 10) == 0.0
    assert ndcg_at(["a"], {}, 10) == 0.0  # nothing relevant: no credit, no division by zero


def test_precision_recall_mrr_and_coverage() -> None:
    judged = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}
    ranked = ["x", "a", "y", "b", "z"]
    assert precision_at(ranked, judged, 5) == pytest.approx(2 / 5)
    assert recall_at(ranked, judged, 5) == pytest.approx(2 / 4)
    assert reciprocal_rank(ranked, judged) == pytest.approx(1 / 2)
    assert reciprocal_rank(["x"], judged) == 0.0
    assert coverage({"q1": ["a", "b"], "q2": ["b", "c"]}, catalogue=6, k=10) == 0.5


def test_correlations() -> None:
    assert correlations([1, 2, 3, 4], [10, 20, 30, 40]) == {"pearson": 1.0, "spearman": 1.0}
    assert correlations([1, 2, 3, 4], [4, 3, 2, 1])["spearman"] == -1.0
    assert correlations([1, 2], [1, 2]) == {"pearson": 0.0, "spearman": 0.0}  # too few


def test_only_the_top_k_counts() -> None:
    judged = {"a": 3.0, "b": 2.0, "c": 1.0}
    # "a" just past the cut earns nothing; the ideal is cut at k too
    assert ndcg_at(["x", "a"], judged, 1) == 0.0
    assert ndcg_at(["b"], judged, 1) == pytest.approx(2 / 3)
    assert precision_at(["a", "b", "c"], judged, 2) == 1.0
    assert recall_at(["a", "b", "c"], judged, 2) == pytest.approx(2 / 3)
    assert coverage({"q": ["a", "b", "c"]}, catalogue=3, k=2) == pytest.approx(0.6667)


def test_gains_of_zero_are_not_relevant() -> None:
    judged = {"a": 0.0, "b": 1.0}
    assert precision_at(["a", "b"], judged, 2) == 0.5
    assert recall_at(["a"], judged, 10) == 0.0
    assert reciprocal_rank(["a", "b"], judged) == 0.5
    assert recall_at(["a"], {"a": 0.0}, 10) == 0.0  # none relevant: no division by zero
    assert dcg([]) == 0.0 and dcg([1.0, 1.0]) == pytest.approx(1 + 1 / math.log2(3))


def test_summarise_averages_over_the_judged_queries_only() -> None:
    judgments = {"q1": {"a": 1.0}, "q2": {"b": 1.0}, "q3": {"c": 1.0}}
    rankings = {"q1": ["a"], "q2": ["x", "b"], "unjudged": ["a"]}  # q3 was never ranked
    result = summarise(rankings, judgments, 10)
    assert set(result) == {"ndcg@10", "p@5", "mrr", "recall@10"}
    assert result["mrr"] == pytest.approx((1 + 1 / 2) / 2)
    assert result["recall@10"] == 1.0
    assert result["p@5"] == pytest.approx((1 / 5 + 1 / 5) / 2)
    assert result["ndcg@10"] == pytest.approx(round((1 + 1 / math.log2(3)) / 2, 4))
    assert summarise({}, judgments, 5) == {"ndcg@5": 0.0, "p@5": 0.0, "mrr": 0.0, "recall@5": 0.0}
    assert coverage({"q": ["a"]}, catalogue=0, k=10) == 0.0
