"""Validating and storing a batch of widget events, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.feedback.events import (
    MAX_BODY_BYTES,
    MAX_EVENTS,
    EventError,
    is_crawler,
    parse_batch,
    store,
)
from recommender.storage.feedback_tables import FeedbackEvent
from tests.helpers.feedback import BROWSER_UA, add_articles, batch, click, impression, token


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FeedbackEvent)) or 0


def test_an_impression_stores_the_box_and_each_teaser(session: Session) -> None:
    ids = add_articles(session)
    view = token()
    store(session, parse_batch(batch(impression(ids[0], ids[1:4], view),
                                     click(ids[0], ids[2], 2, view))))
    session.commit()
    rows = session.execute(select(FeedbackEvent.kind, FeedbackEvent.position, FeedbackEvent.arm)
                           .order_by(FeedbackEvent.kind, FeedbackEvent.position)).all()
    assert [tuple(r) for r in rows] == [("click", 2, "default"), ("impression", 0, "default"),
                                        ("impression", 1, "default"), ("impression", 2, "default"),
                                        ("impression", 3, "default")]


def test_a_replayed_batch_counts_once(session: Session) -> None:
    ids = add_articles(session)
    body = batch(impression(ids[0], ids[1:3], token()))
    for _ in range(3):
        store(session, parse_batch(body))
        session.commit()
    assert _count(session) == 3


def test_unknown_articles_store_nothing(session: Session) -> None:
    ids = add_articles(session)
    with pytest.raises(EventError, match="unknown article: 'nope'"):
        store(session, parse_batch(batch(impression(ids[0], [ids[1], "nope"], token()))))
    session.rollback()
    assert _count(session) == 0


@pytest.mark.parametrize(("body", "message"), [
    (b"{", "not valid JSON"),
    (b"[]", "expected a JSON object"),
    (b'{"events": []}', "no events"),
    (batch({"type": "view", "page": "a", "token": "t" * 16, "items": ["b"]}), "events[0].type"),
    (batch({"type": "impression", "page": "a", "token": "short", "items": ["b"]}),
     "events[0].token"),
    (batch({"type": "impression", "page": "a", "token": "t" * 16, "items": "b"}),
     "events[0].items"),
    (batch({"type": "impression", "page": "a", "token": "t" * 16, "items": [1]}),
     "events[0].items"),
    (batch({"type": "click", "page": "a", "token": "t" * 16, "item": "b", "position": "1"}),
     "events[0].position"),
    (batch({"type": "click", "page": "a", "token": "t" * 16, "item": "b", "position": True}),
     "events[0].position"),
    (batch({"type": "click", "page": 5, "token": "t" * 16, "item": "b", "position": 1}),
     "events[0].page"),
    (batch({"type": "click", "page": "a", "token": "t" * 16, "item": "b", "position": 1,
            "arm": "<script>"}), "events[0].arm"),
    # found by schemathesis: text that is not text was a 500 (the database cannot store it)
    (b'{"events": [{"type": "impression", "page": "\\ud800", "token": "tttttttttttttttt",'
     b' "items": ["b"]}]}', "events[0].page: contains a lone surrogate"),
    (b'{"events": [{"type": "impression", "page": "a", "token": "tttttttttttttttt",'
     b' "items": ["b\\u0000"]}]}', "events[0].items: contains a control character"),
])
def test_malformed_batches_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(EventError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_batch(body)


def test_batch_size_limits() -> None:
    many = {"events": [impression("a", ["b"], token()) for _ in range(1000)]}
    with pytest.raises(EventError, match="at most"):
        parse_batch(json.dumps(many).encode())
    with pytest.raises(EventError, match=f"at most {MAX_EVENTS}"):
        parse_batch(json.dumps({"events": many["events"][:MAX_EVENTS + 1]}).encode()[:16000])
    with pytest.raises(EventError, match=f"at most {MAX_BODY_BYTES} are accepted"):
        parse_batch(b" " * (MAX_BODY_BYTES + 1))


def test_crawlers_are_recognised() -> None:
    assert not is_crawler(BROWSER_UA)
    assert not is_crawler(BROWSER_UA.replace("Chrome", "HeadlessChrome"))
    for agent in ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                  "Mozilla/5.0 (compatible; bingbot/2.0)", "facebookexternalhit/1.1",
                  "curl/8.5.0", "python-requests/2.32", ""):
        assert is_crawler(agent), agent
