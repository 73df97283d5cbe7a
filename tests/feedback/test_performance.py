"""The performance figures: senders, receivers, sections, concentration and coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recommender.feedback.events import parse_batch, store
from recommender.feedback.performance import gini, report, top_share
from tests.helpers.feedback import add_articles, batch, click, impression, token

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_gini_and_top_share() -> None:
    assert gini([5, 5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 10]) == 0.75  # (n - 1) / n for one taking all
    assert gini([]) == 0.0 and top_share([]) == 0.0
    assert top_share([10] + [1] * 99) == round(10 / 109, 4)  # the top 1% of 100 is one


def test_report_over_stored_events(session: Session) -> None:
    ids = add_articles(session, 8)
    for day in (1, 0):
        for page in ids[:3]:
            view = token()
            events = [impression(page, ids[5:8], view)]
            if page == ids[0]:
                events.append(click(page, ids[6], 2, view))
            store(session, parse_batch(batch(*events)), now=NOW - timedelta(days=day))
    session.commit()
    figures = report(session, days=7, now=NOW)
    assert (figures.views, figures.clicks) == (6, 2)
    assert figures.by_position == [(1, 6, 0), (2, 6, 2), (3, 6, 0)]
    assert [(r.ref, r.clicks, r.views) for r in figures.senders] == [("a-1", 2, 2)]
    assert figures.receivers[0].ref == "a-7" and figures.receivers[0].clicks == 2
    assert [(s.label, s.views, s.clicks) for s in figures.sections] == [("world", 6, 2)]
    # three of eight live articles share every impression
    assert figures.gini == gini([0, 0, 0, 0, 0, 6, 6, 6]) and figures.top_share == round(6 / 18, 4)
    assert figures.coverage[-2:] == [("2026-03-09", 0.375), ("2026-03-10", 0.375)]
    assert len(figures.coverage) == 7 and figures.coverage[0][1] == 0.0
