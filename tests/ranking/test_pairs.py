"""Catalogue items as formula arrays, and the formulas over (page, candidate) pairs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommender.catalog.items import ItemInfo
from recommender.ranking import formulas
from recommender.ranking.pairs import ItemArrays, Labels, pair_exclusions, pair_scores
from recommender.ranking.policy import RankingPolicy

NOW = datetime(2026, 6, 1, tzinfo=UTC)
POLICY = RankingPolicy(tag_weight=0.2, author_weight=0.05, recency_weight=0.5,
                       half_life_days={"news": 10.0, "evergreen": 0.0})


def test_labels_answer_membership_for_any_shape() -> None:
    labels = Labels.of([["a", "b"], [], ["b", "b"]])
    b = labels.vocab["b"]
    assert labels.carries(np.asarray([0, 1, 2]), np.asarray([b, b, b])).tolist() \
        == [True, False, True]
    assert labels.columns(["a", "zzz"]) == [labels.vocab["a"], -1]
    grid = labels.carries(np.asarray([[0], [2]]), np.asarray([[labels.vocab["a"], b, -1]]))
    assert grid.tolist() == [[True, True, False], [False, True, False]]
    nothing = Labels.of([[], []])
    assert nothing.carries(np.asarray([0, 1]), np.asarray([-1, -1])).tolist() == [False, False]


def test_item_arrays_hold_one_entry_per_item() -> None:
    infos = [ItemInfo(1, language="en", publisher="a.example", published_at=NOW),
             ItemInfo(2, language="fr", live=False, content_type="evergreen"),
             ItemInfo(3, language="en", publisher="a.example", content_type="opinion",
                      published_at=NOW - timedelta(days=1))]
    items = ItemArrays(infos, {}, POLICY)
    assert items.ids.tolist() == [1, 2, 3]
    assert items.live.tolist() == [True, False, True]
    assert items.language.tolist() == [1, 2, 1]
    assert items.publisher.tolist() == [1, 0, 1]
    assert math.isnan(items.published[1])
    assert items.published[0] - items.published[2] == 86_400e6
    assert items.half_life.tolist() == [10.0, 0.0, POLICY.half_life_for("opinion")]


def _catalogue() -> list[ItemInfo]:
    return [
        ItemInfo(0, tags=("india", "trade", "india"), authors=("Ann",), published_at=NOW,
                 publisher="a.example"),
        ItemInfo(1, tags=("trade",), published_at=NOW, publisher="b.example"),
        ItemInfo(2, tags=("india",), authors=("Ann", "Bo"), published_at=NOW - timedelta(days=10),
                 publisher="a.example"),
        ItemInfo(3, tags=(), authors=("Bo",), published_at=None, publisher="a.example"),
        ItemInfo(4, tags=("trade", "rates"), language="fr", published_at=NOW),
    ]


def test_pair_scores_follow_the_formulas() -> None:
    items = ItemArrays(_catalogue(), {"india": 3.0, "trade": 1.0}, POLICY)
    scores = pair_scores(items, np.asarray([0]), np.asarray([[1, 2, 3]]),
                         semantic=[[0.5, 0.5, 0.5]], lexical=[[0.5, 0.5, 0.5]])
    # the page's tags weigh india 3 + trade 1 + india 3 = 7: trade shares 1, india 3
    assert scores.tags[0].tolist() == pytest.approx([0.2 * 1 / 7, 0.2 * 3 / 7, 0.0])
    assert scores.author[0].tolist() == [0.0, 0.05, 0.0]
    assert scores.recency[0].tolist() == [1.0, 0.75, 1.0]  # 10 days at a 10-day half-life
    assert scores.score[0].tolist() == pytest.approx([(0.5 + 0.2 / 7) * 1.0,
                                                      (0.5 + 0.6 / 7 + 0.05) * 0.75, 0.5])


def test_a_batch_of_pages_scores_as_each_page_alone() -> None:
    items = ItemArrays(_catalogue(), {"india": 3.0, "trade": 1.0, "rates": 2.0}, POLICY)
    rng = np.random.default_rng(2)
    cands = np.asarray([[1, 2, 3, 4], [0, 1, 2, 3], [0, 2, 3, 4]])
    semantic, lexical = rng.random(cands.shape), rng.random(cands.shape)
    pages = np.asarray([0, 4, 1])  # three, two and one tag: padded differently in the batch
    batch = pair_scores(items, pages, cands, semantic=semantic, lexical=lexical)
    for row, page in enumerate(pages):
        alone = pair_scores(items, pages[row:row + 1], cands[row:row + 1],
                            semantic=semantic[row:row + 1], lexical=lexical[row:row + 1])
        assert batch.score[row].tolist() == alone.score[0].tolist(), page


def test_pair_exclusions_know_the_page_by_id_not_position() -> None:
    infos = _catalogue()
    page_again = ItemInfo(0, published_at=NOW)  # the page, found again as a candidate
    items = ItemArrays([*infos, page_again], {}, POLICY)
    reasons = pair_exclusions(items, np.asarray([0]), np.asarray([[5, 1, 4, 2]]),
                              lexical=[[0.0, 0.0, 0.0, 0.95]],
                              blocked=[[False, True, False, False]])
    assert reasons[0].tolist() == [formulas.THE_PAGE, formulas.BLOCKED,
                                   formulas.OTHER_LANGUAGE, formulas.COPY_OF_PAGE]
