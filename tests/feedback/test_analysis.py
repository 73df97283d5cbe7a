"""Page-clustered intervals: wider than the naive per-view ones, and significance only when due."""

from __future__ import annotations

import math
import random

from recommender.feedback.analysis import arm_result, compare


def test_a_ratio_estimate_with_a_cluster_robust_interval() -> None:
    pages = [(100, 5), (50, 1), (200, 12), (80, 4)]
    arm = arm_result(pages)
    assert (arm.pages, arm.views, arm.clicks) == (4, 430, 22)
    assert math.isclose(arm.ctr, 22 / 430)
    residual = sum((c - arm.ctr * v) ** 2 for v, c in pages)
    assert math.isclose(arm.se, math.sqrt(4 / 3 * residual) / 430)
    assert arm.low < arm.ctr < arm.high


def test_clustering_widens_the_interval() -> None:
    # Two pages, one always clicked and one never: 200 views, but really two observations.
    clustered = arm_result([(100, 30), (100, 0), (100, 30), (100, 0)])
    naive_se = math.sqrt(0.15 * 0.85 / 400)
    assert clustered.se > 3 * naive_se


def test_significance_only_with_a_real_difference() -> None:
    rng = random.Random(7)

    def arm(ctr: float) -> list[tuple[int, int]]:
        views = [rng.randint(20, 80) for _ in range(60)]
        return [(v, sum(rng.random() < ctr for _ in range(v))) for v in views]

    same_a, same_b = arm(0.05), arm(0.05)
    assert not compare(same_a, same_b).significant
    better = arm(0.12)
    result = compare(same_a, better)
    assert result.significant and result.winner == "b" and result.low > 0
    assert "significant at the 5% level" in result.statement
    assert compare([(10, 1)], [(10, 2)]).statement.startswith("Not enough pages")
    assert compare([], []).to_dict()["significant"] is False
