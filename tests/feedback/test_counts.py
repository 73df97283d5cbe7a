"""Counting over a window: raw rows and the daily rollup as one source, no day twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from recommender.feedback.counts import Window, box_counts, item_counts
from recommender.feedback.events import parse_batch, store
from recommender.feedback.rollup import rollup_and_prune
from tests.helpers.feedback import add_articles, batch, click, impression, token

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _view(session: Session, ids: list[str], at: datetime, clicked: int | None = None) -> None:
    view = token()
    events = [impression(ids[0], ids[1:4], view)]
    if clicked:
        events.append(click(ids[0], ids[clicked], clicked, view))
    store(session, parse_batch(batch(*events)), now=at)
    session.commit()


def test_raw_and_rolled_up_days_add_up(session: Session) -> None:
    ids = add_articles(session)
    for days_ago in (5, 3, 0):
        _view(session, ids, NOW - timedelta(days=days_ago), clicked=1)
        _view(session, ids, NOW - timedelta(days=days_ago, hours=1))
    before = (box_counts(session, Window.last(session, 7, NOW)),
              item_counts(session, Window.last(session, 7, NOW), ("position",)))
    assert before[0] == {(): [6, 3]}
    assert before[1] == {(1,): [6, 3], (2,): [6, 0], (3,): [6, 0]}
    report = rollup_and_prune(session, retention_days=2, now=NOW)
    assert report.pruned == 2 * (5 + 4)  # 5 and 3 days ago: a view with a click, one without
    after = (box_counts(session, Window.last(session, 7, NOW)),
             item_counts(session, Window.last(session, 7, NOW), ("position",)))
    assert after == before
    # A shorter window drops the older days, from the rollup as from the raw rows.
    assert box_counts(session, Window.last(session, 4, NOW)) == {(): [4, 2]}
    assert box_counts(session, Window.last(session, 1, NOW)) == {(): [2, 1]}


def test_by_day_and_arm(session: Session) -> None:
    ids = add_articles(session)
    _view(session, ids, NOW - timedelta(days=1), clicked=2)
    _view(session, ids, NOW)
    days = box_counts(session, Window.last(session, 3, NOW), ("day", "arm"))
    assert days == {("2026-03-09", "default"): [1, 1], ("2026-03-10", "default"): [1, 0]}
    with pytest.raises(ValueError, match="no item or position"):
        box_counts(session, Window.last(session, 3, NOW), ("item",))
    with pytest.raises(ValueError, match="at least 1"):
        Window.last(session, 0, NOW)
