"""The nightly rollup: idempotent, finished days only, raw rows pruned after the retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.feedback.events import parse_batch, store
from recommender.feedback.rollup import rollup_and_prune
from recommender.storage.feedback_tables import FeedbackDaily, FeedbackEvent
from tests.helpers.feedback import add_articles, batch, click, impression, token

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _totals(session: Session) -> list[tuple[int, int, int]]:
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(FeedbackDaily.position, func.sum(FeedbackDaily.impressions),
               func.sum(FeedbackDaily.clicks))
        .group_by(FeedbackDaily.position).order_by(FeedbackDaily.position))]


def test_rollup_twice_gives_the_same_rows_and_today_waits(session: Session) -> None:
    ids = add_articles(session)
    for at in (NOW - timedelta(days=2), NOW - timedelta(days=1), NOW):
        view = token()
        store(session, parse_batch(batch(impression(ids[0], ids[1:3], view),
                                         click(ids[0], ids[2], 2, view))), now=at)
    session.commit()
    first = rollup_and_prune(session, retention_days=30, now=NOW)
    assert (first.days, first.pruned) == (2, 0)
    assert _totals(session) == [(0, 2, 2), (1, 2, 0), (2, 2, 2)]  # today is not rolled up yet
    again = rollup_and_prune(session, retention_days=30, now=NOW)
    assert again.rows == first.rows and _totals(session) == [(0, 2, 2), (1, 2, 0), (2, 2, 2)]
    pruned = rollup_and_prune(session, retention_days=1, now=NOW)
    assert pruned.pruned == 4  # the view two days ago: box, two teasers, one click
    assert _totals(session) == [(0, 2, 2), (1, 2, 0), (2, 2, 2)]  # its rollup stays
    assert session.scalar(select(func.count()).select_from(FeedbackEvent)) == 8


def test_nothing_to_do(session: Session) -> None:
    report = rollup_and_prune(session, retention_days=30, now=NOW)
    assert report.to_dict() == {"events_days_rolled_up": 0, "events_rollup_rows": 0,
                                "events_pruned": 0}
