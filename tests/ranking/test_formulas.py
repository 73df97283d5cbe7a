"""Each ranking formula on small arrays, against values computed by hand from its definition."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommender.ranking import formulas
from recommender.ranking.policy import RankingPolicy

POLICY = RankingPolicy()


def exclusions(policy: RankingPolicy = POLICY, **overrides: object) -> list[int]:
    """``formulas.exclusions`` for a page (English, publisher code 1) and one candidate that
    passes every rule unless ``overrides`` says otherwise."""
    args: dict[str, object] = {"is_page": [False], "live": [True], "blocked": [False],
                               "page_language": 1, "language": [1], "page_publisher": 1,
                               "publisher": [1], "lexical": [0.5]}
    args.update(overrides)
    return formulas.exclusions(policy, **args).tolist()  # type: ignore[arg-type]


def test_codes_reserve_zero_for_unknown() -> None:
    assert formulas.codes(["", "en", "fr", "en", ""]).tolist() == [0, 1, 2, 1, 0]
    assert formulas.codes([]).tolist() == []


def test_each_filter_rule_gives_its_reason() -> None:
    assert exclusions() == [formulas.KEPT]
    assert exclusions(is_page=[True]) == [formulas.THE_PAGE]
    assert exclusions(live=[False]) == [formulas.NOT_LIVE]
    assert exclusions(blocked=[True]) == [formulas.BLOCKED]
    assert exclusions(language=[2]) == [formulas.OTHER_LANGUAGE]
    assert exclusions(language=[0]) == [formulas.OTHER_LANGUAGE]  # unknown is not English
    assert exclusions(lexical=[0.95]) == [formulas.COPY_OF_PAGE]


def test_the_first_rule_that_applies_is_the_reason() -> None:
    assert exclusions(is_page=[True], live=[False], blocked=[True]) == [formulas.THE_PAGE]
    assert exclusions(live=[False], blocked=[True], language=[2]) == [formulas.NOT_LIVE]
    assert exclusions(blocked=[True], language=[2], lexical=[1.0]) == [formulas.BLOCKED]
    assert exclusions(language=[2], lexical=[1.0]) == [formulas.OTHER_LANGUAGE]


def test_language_rule_follows_the_policy_and_the_page() -> None:
    assert exclusions(RankingPolicy(same_language=False), language=[2]) == [formulas.KEPT]
    assert exclusions(page_language=0, language=[2]) == [formulas.KEPT]  # page's unknown


def test_a_copy_of_the_page_is_the_same_publishers_text_at_the_threshold() -> None:
    threshold = POLICY.near_duplicate_threshold
    assert exclusions(lexical=[threshold]) == [formulas.COPY_OF_PAGE]
    assert exclusions(lexical=[np.nextafter(threshold, 0)]) == [formulas.KEPT]
    assert exclusions(lexical=[1.0], publisher=[2]) == [formulas.KEPT]  # another publication
    # two unknown publishers are not "the same publication"
    assert exclusions(lexical=[1.0], page_publisher=0, publisher=[0]) == [formulas.KEPT]


def test_exclusions_broadcast_pages_against_candidates() -> None:
    reasons = formulas.exclusions(
        POLICY, is_page=[[True, False], [False, False]], live=[[True, True], [True, False]],
        blocked=np.zeros((2, 2), bool), page_language=[[1], [2]], language=[[1, 2], [2, 2]],
        page_publisher=[[0], [0]], publisher=[[0, 0], [0, 0]], lexical=np.zeros((2, 2)))
    assert reasons.tolist() == [[formulas.THE_PAGE, formulas.OTHER_LANGUAGE],
                                [formulas.KEPT, formulas.NOT_LIVE]]
    empty = formulas.exclusions(POLICY, is_page=np.zeros((1, 0), bool), live=np.zeros((1, 0), bool),
                                blocked=np.zeros((1, 0), bool), page_language=[[1]],
                                language=np.zeros((1, 0), int), page_publisher=[[1]],
                                publisher=np.zeros((1, 0), int), lexical=np.zeros((1, 0)))
    assert empty.shape == (1, 0)


def test_duplicate_rules_are_inclusive_thresholds() -> None:
    assert formulas.one_text([0.98, 0.9799, 1.0], 0.98).tolist() == [True, False, True]
    assert formulas.one_text([1.0], 2.0).tolist() == [False]  # builds before twins: none
    limit = formulas.ONE_TEXT_MIN_SEMANTIC
    assert formulas.may_be_one_text([limit, np.nextafter(limit, 0)]).tolist() == [True, False]


def test_text_score_is_the_weighted_mean() -> None:
    assert formulas.text_score([0.8], [0.2], 0.6, 0.4).tolist() == pytest.approx([0.56])
    # weights need not sum to 1: (1 * 0.8 + 3 * 0.2) / 4
    assert formulas.text_score([0.8], [0.2], 1.0, 3.0).tolist() == pytest.approx([0.35])
    assert formulas.text_score([], [], 0.5, 0.5).tolist() == []


def test_tag_slots_weigh_by_idf_and_mark_repeats() -> None:
    weights, first = formulas.tag_slots(("a", "b", "a"), {"a": 2.0})
    assert weights.tolist() == [2.0, 1.0, 2.0]  # "b" is unknown to the build: 1.0
    assert first.tolist() == [True, True, False]
    weights, first = formulas.tag_slots((), {"a": 2.0})
    assert weights.shape == first.shape == (0,)


def test_tag_overlap_is_the_shared_share_of_the_page_weight() -> None:
    weights, first = formulas.tag_slots(("a", "b"), {"a": 3.0, "b": 1.0})
    carried = [[True, False], [False, True], [True, True], [False, False]]
    assert formulas.tag_overlap(weights, first, carried).tolist() == [0.75, 0.25, 1.0, 0.0]


def test_a_repeated_page_tag_counts_twice_in_the_total_and_once_in_the_share() -> None:
    weights, first = formulas.tag_slots(("a", "b", "a"), {"a": 2.0})
    # total 2 + 1 + 2 = 5; a candidate with "a" shares 2 of it, with both 3
    overlap = formulas.tag_overlap(weights, first, [[True, False, True], [True, True, True]])
    assert overlap.tolist() == pytest.approx([0.4, 0.6])


def test_tag_overlap_without_page_tags_or_candidates() -> None:
    assert formulas.tag_overlap(np.zeros(0), np.zeros(0, bool), np.zeros((3, 0), bool)).tolist() \
        == [0.0, 0.0, 0.0]
    assert formulas.tag_overlap([1.0], [True], np.zeros((0, 1), bool)).tolist() == []


def test_tag_overlap_of_padded_pages_in_a_batch() -> None:
    # page 0 has tags (x: 2, y: 1), page 1 only (z: 4) padded with a zero slot
    weights = np.asarray([[2.0, 1.0], [4.0, 0.0]])[:, None, :]
    first = np.asarray([[True, True], [True, False]])[:, None, :]
    carried = np.asarray([[[True, False], [False, True]], [[True, True], [False, True]]])
    overlap = formulas.tag_overlap(weights, first, carried)
    assert np.allclose(overlap, [[2 / 3, 1 / 3], [1.0, 0.0]], rtol=0, atol=1e-15)


def test_microseconds_and_ages_are_exact() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert formulas.microseconds(epoch + timedelta(seconds=1, microseconds=5)) == 1_000_005.0
    assert formulas.microseconds(datetime(1970, 1, 2)) == 86_400e6  # naive: wall clock
    assert math.isnan(formulas.microseconds(None))
    page = datetime(2026, 6, 1, 12, 0, 0, 1, tzinfo=UTC)
    items = [page - timedelta(days=2, hours=12), page + timedelta(days=1), None]
    ages = formulas.age_days(formulas.microseconds(page), [formulas.microseconds(i) for i in items])
    assert ages[:2].tolist() == [2.5, -1.0]
    assert math.isnan(ages[2])
    # the same as a timedelta's own arithmetic, to the bit
    odd = page - timedelta(days=3, seconds=7, microseconds=123457)
    assert formulas.age_days(formulas.microseconds(page), formulas.microseconds(odd)) \
        == (page - odd).total_seconds() / 86400


def test_recency_decays_by_half_life() -> None:
    factor = formulas.recency_factor([30.0, 60.0, 0.0], [30.0, 30.0, 30.0], 0.5)
    # 1 - 0.5 * (1 - 0.5 ** (30 / 30)) and 1 - 0.5 * (1 - 0.5 ** 2)
    assert factor.tolist() == [0.75, 0.625, 1.0]


def test_recency_never_penalises_newer_undated_or_never_decaying_items() -> None:
    factor = formulas.recency_factor([-5.0, math.nan, 400.0], [30.0, 30.0, 0.0], 0.8)
    assert factor.tolist() == [1.0, 1.0, 1.0]
    assert formulas.recency_factor([400.0], [30.0], 0.0).tolist() == [1.0]  # weight off
    assert formulas.recency_factor([], [], 0.5).shape == (0,)
    # one half-life for every pair broadcasts
    assert formulas.recency_factor([[30.0, 60.0]], 30.0, 1.0).tolist() == [[0.5, 0.25]]


def test_recency_is_math_pow_to_the_bit() -> None:
    rng = np.random.default_rng(11)
    ages, halves = rng.random(2000) * 900, rng.choice([45.0, 180.0, 365.0, 730.0], 2000)
    expected = [1.0 - 0.3 * (1.0 - math.pow(0.5, a / h)) for a, h in zip(ages, halves, strict=True)]
    assert formulas.recency_factor(ages, halves, 0.3).tolist() == expected


def test_blend_adds_tags_and_author_to_the_text_then_applies_recency() -> None:
    policy = RankingPolicy(semantic_weight=0.5, lexical_weight=0.5, tag_weight=0.1,
                           author_weight=0.03)
    scores = formulas.blend(policy, semantic=[0.6, 0.6], lexical=[0.4, 0.4], overlap=[0.5, 0.0],
                            shares_author=[True, False], recency=[0.8, 1.0])
    assert scores.text.tolist() == pytest.approx([0.5, 0.5])
    assert scores.tags.tolist() == pytest.approx([0.05, 0.0])
    assert scores.author.tolist() == [0.03, 0.0]
    assert scores.recency.tolist() == [0.8, 1.0]
    assert scores.score.tolist() == pytest.approx([(0.5 + 0.05 + 0.03) * 0.8, 0.5])


def test_the_language_rule_on_codes_and_on_labels() -> None:
    pages, langs = ["en", "en", "en", "", ""], ["en", "fr", "", "fr", ""]
    expected = [False, True, True, False, False]
    assert formulas.other_language(pages, langs, unknown="").tolist() == expected
    codes = formulas.codes(pages + langs)
    assert formulas.other_language(codes[:5], codes[5:]).tolist() == expected
