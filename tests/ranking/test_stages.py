"""The ranking stages on hand-made candidates: no database, no model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommender.catalog.items import ItemInfo
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.stages import (
    DUPLICATE_SLACK,
    Candidate,
    Dropped,
    apply_curation,
    apply_fallback,
    diversity_pool,
    filter_candidates,
    pairwise_from,
    rank,
    rank_scored,
    reach,
    score_candidates,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PAGE = ItemInfo(id=0, section="Asia", tags=("india", "russia"), authors=("Ann",),
                published_at=NOW, publisher="mag.example")


def cand(i: int, sem: float = 0.5, lex: float = 0.5, **info: object) -> Candidate:
    defaults: dict[str, object] = {"published_at": NOW, "publisher": "mag.example"}
    defaults.update(info)
    return Candidate(ItemInfo(id=i, **defaults), semantic=sem, lexical=lex)  # type: ignore[arg-type]


def vecs(*ids: int, dim: int = 8) -> dict[int, np.ndarray]:
    """Orthogonal unit vectors: no two candidates are alike unless a test says so."""
    return {i: np.eye(dim, dtype=np.float32)[n % dim] for n, i in enumerate(ids)}


def test_filter_drops_self_unpublished_blocked_language_and_copies() -> None:
    policy = RankingPolicy()
    cands = [cand(0), cand(1, live=False), cand(2), cand(3, language="fr"),
             cand(4, lex=0.95), cand(5, lex=0.95, publisher="other.example"), cand(6), cand(6)]
    kept, dropped = filter_candidates(PAGE, cands, policy, blocked=frozenset({2}))
    assert [c.id for c in kept] == [5, 6]
    reasons = {d.candidate.id: d.reason for d in dropped}
    assert reasons[0] == "the page itself"
    assert reasons[1] == "not published"
    assert reasons[2] == "blocked"
    assert reasons[3] == "language fr"
    assert reasons[4] == "near-duplicate of the page"


def test_same_language_can_be_switched_off() -> None:
    kept, _ = filter_candidates(PAGE, [cand(3, language="fr")], RankingPolicy(same_language=False))
    assert [c.id for c in kept] == [3]


def test_tag_overlap_is_idf_weighted() -> None:
    idf = {"india": 3.0, "russia": 1.0}
    policy = RankingPolicy(tag_weight=1.0)
    both, first, second, untagged = (cand(1, tags=("india", "russia")), cand(2, tags=("india",)),
                                     cand(3, tags=("russia",)), cand(4))
    score_candidates(PAGE, [both, first, second, untagged], policy, idf)
    assert both.signals["tags"] == 1.0
    assert first.signals["tags"] == pytest.approx(0.75)
    assert second.signals["tags"] == pytest.approx(0.25)
    assert untagged.signals["tags"] == 0.0
    no_tags = cand(5, tags=("india",))
    score_candidates(ItemInfo(id=0, published_at=NOW), [no_tags], policy, idf)
    assert no_tags.signals["tags"] == 0.0


def test_score_blends_signals_and_records_them() -> None:
    policy = RankingPolicy(semantic_weight=0.6, lexical_weight=0.4, tag_weight=0.1,
                           author_weight=0.05)
    a = cand(1, sem=0.8, lex=0.2, tags=("india",), authors=("Ann",))
    b = cand(2, sem=0.8, lex=0.2)
    score_candidates(PAGE, [a, b], policy, {"india": 1.0, "russia": 1.0})
    assert b.score == pytest.approx(0.6 * 0.8 + 0.4 * 0.2)
    assert a.score == pytest.approx(b.score + 0.05 + 0.05)
    assert a.signals["tags"] == pytest.approx(0.05) and a.signals["author"] == 0.05


def test_recency_decays_by_type_and_never_penalises_newer_items() -> None:
    policy = RankingPolicy(recency_weight=0.5, half_life_days={"news": 30, "evergreen": 0})
    old = NOW - timedelta(days=30)
    newer = NOW + timedelta(days=300)
    news, evergreen, recent, undated = (cand(1, content_type="news", published_at=old),
                                        cand(2, content_type="evergreen", published_at=old),
                                        cand(3, content_type="news", published_at=newer),
                                        cand(4, content_type="news", published_at=None))
    score_candidates(PAGE, [news, evergreen, recent, undated], policy, {})
    assert news.signals["recency"] == pytest.approx(0.75)
    assert news.score == pytest.approx(0.75 * evergreen.score)
    assert evergreen.signals["recency"] == 1.0
    assert recent.signals["recency"] == 1.0
    assert undated.signals["recency"] == 1.0


def test_duplicates_among_results_collapse_and_mmr_spreads() -> None:
    policy = RankingPolicy(mmr_lambda=0.5, recency_weight=0, quality_floor=0)
    items = [cand(1, sem=0.9, lex=0.6), cand(2, sem=0.89, lex=0.59), cand(3, sem=0.7, lex=0.4)]
    vectors = vecs(1, 2, 3)
    vectors[2] = vectors[1].copy()  # 2 says the same thing as 1
    from scipy import sparse

    lexical_rows = {1: sparse.csr_matrix([[1.0, 0.0]]), 2: sparse.csr_matrix([[0.995, 0.0998]]),
                    3: sparse.csr_matrix([[0.0, 1.0]])}
    ranked = rank(PAGE, items, policy, 3, tag_idf={}, pairwise=pairwise_from(vectors, lexical_rows))
    assert [c.id for c in ranked.items] == [1, 3]
    assert any(d.reason == "near-duplicate of article 1" for d in ranked.dropped)


def test_mmr_prefers_a_different_story_over_a_similar_one() -> None:
    items = [cand(1, sem=0.9, lex=0.6), cand(2, sem=0.85, lex=0.55), cand(3, sem=0.8, lex=0.5)]
    vectors = vecs(1, 2, 3)
    vectors[2] = (vectors[1] * 0.9 + vectors[3] * 0.1) / np.linalg.norm(vectors[1] * 0.9
                                                                        + vectors[3] * 0.1)
    off = rank(PAGE, [cand(c.id, c.semantic, c.lexical) for c in items],
               RankingPolicy(mmr_lambda=1.0, recency_weight=0), 3, tag_idf={},
               pairwise=pairwise_from(vectors))
    on = rank(PAGE, items, RankingPolicy(mmr_lambda=0.6, recency_weight=0), 3, tag_idf={},
              pairwise=pairwise_from(vectors))
    assert [c.id for c in off.items] == [1, 2, 3]
    assert [c.id for c in on.items] == [1, 3, 2]
    assert on.items[2].signals["diversity"] < 0


def test_curation_pins_at_positions_and_blocks() -> None:
    ordered = [cand(1), cand(2), cand(3), cand(4)]
    out = apply_curation(ordered, [(cand(9), 1), (cand(8), 3), (cand(7, live=False), 2)],
                         blocked=frozenset({2}))
    assert [c.id for c in out] == [9, 1, 8, 3, 4]
    assert out[0].pinned and out[0].note == "pinned at position 1"


def test_fallback_fills_from_section_and_marks_items() -> None:
    policy = RankingPolicy(quality_floor=0.3)
    strong, weak = cand(1), cand(2)
    strong.score, weak.score = 0.5, 0.1
    pool = [cand(1), cand(5), cand(6, live=False), cand(7)]
    kept, dropped = apply_fallback([strong, weak], pool, 3, policy)
    assert [c.id for c in kept] == [1, 5, 7]
    assert [c.fallback for c in kept] == [False, True, True]
    assert [d.candidate.id for d in dropped] == [2]


def test_nothing_qualifies_gives_an_empty_list() -> None:
    policy = RankingPolicy(quality_floor=0.9)
    ranked = rank(PAGE, [cand(1, sem=0.1, lex=0.1)], policy, 3, tag_idf={}, pairwise=pairwise_from(vecs(1)))
    assert ranked.items == []


def test_rank_cuts_at_k_and_keeps_below_cut_for_editors() -> None:
    items = [cand(i, sem=1 - i / 20, lex=0.5 - i / 40) for i in range(1, 10)]
    ranked = rank(PAGE, items, RankingPolicy(mmr_lambda=1.0, quality_floor=0), 3, tag_idf={},
                  pairwise=pairwise_from(vecs(*range(1, 10), dim=16)), below_cut=2)
    assert [c.id for c in ranked.items] == [1, 2, 3]
    assert [c.id for c in ranked.below_cut] == [4, 5]


def test_a_candidate_given_twice_is_dropped_the_second_time() -> None:
    kept, dropped = filter_candidates(PAGE, [cand(0), cand(6), cand(0), cand(6)], RankingPolicy())
    assert [c.id for c in kept] == [6]
    assert [(d.candidate.id, d.reason) for d in dropped] == [
        (0, "the page itself"), (0, "the page itself"), (6, "duplicate candidate")]
    assert filter_candidates(PAGE, [], RankingPolicy()) == ([], [])


def test_signals_are_recorded_in_the_order_editors_read_them() -> None:
    c = cand(1, sem=0.61234, lex=0.41236, tags=("india",), authors=("Ann",))
    score_candidates(PAGE, [c], RankingPolicy(), {"india": 2.0, "russia": 2.0})
    assert list(c.signals) == ["semantic", "lexical", "text", "tags", "author", "recency"]
    assert c.signals["semantic"] == 0.6123 and c.signals["lexical"] == 0.4124
    assert c.signals["tags"] == 0.05 and c.signals["author"] == 0.03
    assert c.score == pytest.approx((0.61234 + 0.41236) / 2 + 0.05 + 0.03)


def test_reach_covers_the_pool_duplicates_and_blocks() -> None:
    assert diversity_pool(6, 0) == 20 and diversity_pool(12, 0) == 24
    assert diversity_pool(6, 5, pins=8) == 22
    assert reach(6, 0, 0, 0) == 20 + DUPLICATE_SLACK
    assert reach(6, 0, 8, 3) == 22 + DUPLICATE_SLACK + 3


def test_rank_scored_keeps_what_was_dropped_out_of_the_filler() -> None:
    policy = RankingPolicy(quality_floor=0.3, recency_weight=0)
    strong = cand(1)
    strong.score = 0.6
    copy = cand(2)
    ranked = rank_scored(PAGE, [strong], [Dropped(copy, "near-duplicate of the page")], policy, 3,
                         pairwise=pairwise_from(vecs(1, 2)), blocked=frozenset({3}),
                         fallback_pool=[cand(0), cand(2), cand(3), cand(4)])
    # the page, its copy and the blocked item never come back as fallback; 4 fills the list
    assert [(c.id, c.fallback) for c in ranked.items] == [(1, False), (4, True)]
    assert [d.reason for d in ranked.dropped] == ["near-duplicate of the page"]


@pytest.mark.parametrize(("page_language", "foreign"), [("en", "fr"), ("fr", "en")])
def test_no_stage_lets_another_language_in(page_language: str, foreign: str) -> None:
    """The language rule holds for candidates, the fallback filler and pins, both ways: a page
    with few candidates fills from its section, whose newest article is in the other language."""
    page = ItemInfo(id=0, section="Asia", language=page_language, published_at=NOW)
    pool = [cand(2, language=foreign, section="Asia"), cand(3, language=page_language),
            cand(4, language=foreign), cand(5, language="")]
    ranked = rank(page, [cand(1, language=page_language), cand(6, language=foreign)],
                  RankingPolicy(quality_floor=0.0), 4, tag_idf={},
                  pairwise=pairwise_from(vecs(1, 6)),
                  pins=[(cand(7, language=foreign), 1), (cand(8, language=page_language), 2)],
                  fallback_pool=pool)
    assert [c.id for c in ranked.items] == [1, 8, 3]
    assert all(c.info.language == page_language for c in ranked.items)
    reasons = {d.candidate.id: d.reason for d in ranked.dropped}
    assert reasons[6] == f"language {foreign}"
    assert reasons[7] == f"pin not shown: language {foreign}"


def test_a_page_of_unknown_language_takes_any() -> None:
    page = ItemInfo(id=0, section="Asia", language="", published_at=NOW)
    ranked = rank(page, [], RankingPolicy(), 3, tag_idf={}, pairwise=pairwise_from({}),
                  pins=[(cand(7, language="fr"), 1)], fallback_pool=[cand(2, language="de")])
    assert [c.id for c in ranked.items] == [7, 2]


def test_the_language_rule_can_be_switched_off_for_filler_and_pins() -> None:
    page = ItemInfo(id=0, section="Asia", language="en", published_at=NOW)
    ranked = rank(page, [], RankingPolicy(same_language=False), 3, tag_idf={},
                  pairwise=pairwise_from({}), pins=[(cand(7, language="fr"), 1)],
                  fallback_pool=[cand(2, language="de")])
    assert [c.id for c in ranked.items] == [7, 2]
