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


def test_half_lives_per_content_type_and_partial_dicts() -> None:
    policy = RankingPolicy.from_dict({"half_life_days": {"news": 10.0}, "tag_weight": 0.2})
    assert policy.half_life_for("news") == 10.0
    assert policy.half_life_for("evergreen") == 0.0  # the other defaults are kept
    assert policy.half_life_for("podcast") == policy.default_half_life_days
    assert policy.half_life_for(None) == policy.default_half_life_days
    assert policy.tag_weight == 0.2 and policy.author_weight == RankingPolicy().author_weight
    with pytest.raises(ValueError, match="half_life_days"):
        RankingPolicy(half_life_days={"news": -1.0})
    with pytest.raises(ValueError, match="semantic_weight \\+ lexical_weight"):
        RankingPolicy(semantic_weight=0.0, lexical_weight=0.0)
