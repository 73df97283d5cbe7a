"""The ``stats`` document: totals, CTR by position and by arm, the share of views with a click."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from recommender.feedback.events import parse_batch, store
from recommender.feedback.stats import render_text, summary
from tests.helpers.feedback import add_articles, batch, click, impression, token

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_summary_per_position_and_arm(session: Session) -> None:
    ids = add_articles(session)
    views = [token() for _ in range(4)]
    events = [impression(ids[0], ids[1:4], views[0]), click(ids[0], ids[1], 1, views[0]),
              click(ids[0], ids[3], 3, views[0]),
              impression(ids[0], ids[1:4], views[1]),
              impression(ids[4], ids[1:3], views[2], arm="b"), click(ids[4], ids[2], 2, views[2], "b"),
              impression(ids[4], ids[1:3], views[3], arm="b")]
    store(session, parse_batch(batch(*events)), now=NOW)
    session.commit()
    doc = summary(session, days=7, now=NOW)
    assert (doc["impressions"], doc["clicks"], doc["ctr"], doc["click_share"]) == (4, 3, 0.75, 0.5)
    assert doc["ctr_by_position"] == {"1": 0.25, "2": 0.25, "3": 0.5}
    assert doc["by_position"]["3"] == {"impressions": 2, "clicks": 1, "ctr": 0.5}
    assert doc["arms"] == {"b": {"impressions": 2, "clicks": 1, "ctr": 0.5, "click_share": 0.5},
                           "default": {"impressions": 2, "clicks": 2, "ctr": 1.0,
                                       "click_share": 0.5}}
    text = render_text(doc)
    assert "4 box views, 3 clicks, CTR 75.00%" in text and "50.00% of views with a click" in text


def test_no_events_is_all_zero(session: Session) -> None:
    doc = summary(session, days=1, now=NOW)
    assert (doc["impressions"], doc["clicks"], doc["ctr"], doc["arms"]) == (0, 0, 0.0, {})
