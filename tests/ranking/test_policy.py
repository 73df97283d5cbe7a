"""The ranking policy: validation, defaults per content type, and its dict round trip."""

from __future__ import annotations

import pytest

from recommender.ranking.policy import RankingPolicy


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="mmr_lambda"):
        RankingPolicy(mmr_lambda=2)
    with pytest.raises(ValueError, match="unknown ranking policy keys: bogus"):
        RankingPolicy.from_dict({"bogus": 1})
    assert RankingPolicy.from_dict(RankingPolicy().to_dict()) == RankingPolicy()


@pytest.mark.parametrize("bad", [{"smoothing": -0.1}, {"smoothing_neighbours": 0},
                                 {"smoothing_power": -1.0}])
def test_policy_rejects_bad_smoothing(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RankingPolicy.from_dict(bad)
