"""Publishing and withdrawing through the library (the webhook is a thin layer over it): a request
is all-or-nothing, an unchanged article costs no refresh, and the articles, their lists and the
audit entries are committed together before the caller answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recommender.embedding.encoder import Vectors
from recommender.live.publishing import (
    MAX_ARTICLES,
    PublishRejected,
    UnknownArticle,
    publish,
    records_of,
    withdraw,
)
from recommender.live.recommender import Recommender
from recommender.storage.schema import Article, AuditEntry, RelatedItem
from tests.helpers.fakes import FakeEncoder

Demo = tuple[Recommender, sessionmaker[Session], FakeEncoder]
NEW: dict[str, Any] = {
    "id": "cms-1", "url": "https://wire.example/oil-deal?utm_source=x", "title": "Refiners sign "
    "a rupee crude deal with Russia", "body": "Indian refiners signed contracts for Russian crude "
    "settled in rupees, after the Delhi summit agreed a payment channel.", "tags": ["india"],
    "section": "Asia", "published_at": "2025-12-08T09:00:00Z",
}


class BrokenEncoder(FakeEncoder):
    def encode(self, texts: Sequence[str]) -> Vectors:
        raise RuntimeError("the model crashed")


def _audit(session: Session) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _holders(session: Session, article_id: int) -> set[int]:
    return set(session.scalars(select(RelatedItem.article_id)
                               .where(RelatedItem.target_id == article_id)))


def test_the_shapes_a_request_may_take() -> None:
    assert records_of(NEW) == [NEW]
    assert records_of([NEW, NEW]) == [NEW, NEW]
    assert records_of({"articles": [NEW]}) == [NEW]
    assert records_of({**NEW, "articles": "a field of the article"})[0]["id"] == "cms-1"
    for payload, message in (([], "no articles"), ({"articles": {}}, "must be a list"),
                             ("text", "expected an article object"),
                             ([NEW] * (MAX_ARTICLES + 1), "at most 500 articles per request; "
                                                          "got 501; split the batch")):
        with pytest.raises(PublishRejected, match=message):
            records_of(payload)


def test_a_new_article_is_stored_listed_and_audited_in_one_go(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        report = publish(session, rec, NEW, actor="api-key:cms")
        [item] = report.items
        assert (item.id, item.action, item.status) == ("cms-1", "added", "published")
        assert report.added and report.refreshed and item.lists_updated >= 2
        assert report.lists_updated >= item.lists_updated
    with factory() as session:  # committed: another session sees all of it
        article = session.scalars(select(Article).where(Article.external_id == "cms-1")).one()
        assert article.url == "https://wire.example/oil-deal"
        assert session.scalar(select(func.count()).select_from(RelatedItem)
                              .where(RelatedItem.article_id == article.id))
        assert _holders(session, article.id)  # already in its neighbours' lists
        assert _audit(session) == [("api-key:cms", "article-added")]


def test_repeating_a_request_changes_nothing(demo: Demo) -> None:
    rec, factory, encoder = demo
    with factory() as session:
        publish(session, rec, NEW, actor="cms")
        calls = encoder.calls
        again = publish(session, rec, {"articles": [NEW]}, actor="cms")
    assert [(i.action, i.lists_updated) for i in again.items] == [("unchanged", 0)]
    assert not again.refreshed and not again.added and again.lists_updated == 0
    assert encoder.calls == calls  # nothing embedded or ranked
    with factory() as session:
        assert _audit(session) == [("cms", "article-added")]


def test_a_change_is_an_update_in_place(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        publish(session, rec, NEW, actor="cms")
        report = publish(session, rec, [{**NEW, "title": NEW["title"] + " (corrected)"},
                                         {**NEW, "id": "cms-2", "url": "https://wire.example/2"}],
                         actor="cms")
    assert [(i.id, i.action) for i in report.items] == [("cms-1", "updated"), ("cms-2", "added")]
    with factory() as session:
        titles = session.scalars(select(Article.title).where(Article.external_id == "cms-1")).all()
        assert titles == [NEW["title"] + " (corrected)"]
        assert _audit(session)[1:] == [("cms", "article-updated"), ("cms", "article-added")]


def test_one_bad_item_refuses_the_request_and_stores_nothing(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        taken = session.scalars(select(Article.url).where(Article.external_id == "demo-001")).one()
        before = session.scalar(select(func.count()).select_from(Article))
        with pytest.raises(PublishRejected) as refused:
            publish(session, rec, [NEW, {"id": "x", "title": ""}, {**NEW, "id": "cms-9"},
                                   {**NEW, "id": "cms-8", "url": taken}], actor="cms")
        assert "problem(s) in the request; nothing was stored" in refused.value.message
        problems = [p.as_dict() for p in refused.value.problems]
        assert {(p["index"], p["field"]) for p in problems} == {(1, "url"), (1, "title"),
                                                                 (2, "url"), (3, "url")}
        assert [p["index"] for p in problems] == sorted(p["index"] for p in problems)
        assert any("(first at index 0)" in p["message"] for p in problems if p["index"] == 2)
        # the session is usable afterwards, and nothing reached the database
        assert session.scalar(select(func.count()).select_from(Article)) == before
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == before
        assert _audit(session) == []


def test_a_failed_refresh_leaves_nothing_half_done(demo: Demo) -> None:
    rec, factory, _ = demo
    broken = Recommender(rec.settings, factory, encoder=BrokenEncoder())
    with factory() as session, pytest.raises(RuntimeError, match="the model crashed"):
        publish(session, broken, NEW, actor="cms")
    with factory() as session:
        assert session.scalars(select(Article).where(Article.external_id == "cms-1")).first() is None
        assert _audit(session) == []


def test_withdrawing_takes_an_article_out_of_every_list(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        target = session.scalars(select(Article).where(Article.external_id == "demo-003")).one()
        holders = _holders(session, target.id)
        assert len(holders) >= 3
        result = withdraw(session, rec, "demo-003", actor="cms")
    assert (result.id, result.action, result.status) == ("demo-003", "withdrawn", "unpublished")
    assert result.lists_updated == len(holders)
    with factory() as session:
        assert _holders(session, target.id) == set()
        assert session.scalar(select(func.count()).select_from(RelatedItem)
                              .where(RelatedItem.article_id == target.id)) == 0
        assert _audit(session) == [("cms", "article-withdrawn")]
        again = withdraw(session, rec, "demo-003", actor="cms")
        assert (again.action, again.lists_updated) == ("unchanged", 0)
        with pytest.raises(UnknownArticle, match="no article with id 'nope'"):
            withdraw(session, rec, "nope", actor="cms")
    with factory() as session:
        assert _audit(session) == [("cms", "article-withdrawn")]
