"""Storing validated articles: upsert by CMS id in place, idempotent, and URLs already taken
(SQLite and, with TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.articles import ArticleInput, parse_article
from recommender.catalog.storing import find_url_conflicts, upsert_articles
from recommender.storage.schema import Article

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _item(n: int, now: datetime = NOW, **kw: Any) -> ArticleInput:
    return parse_article({"id": f"a{n}", "url": f"https://mag.example/{n}", "title": f"Story {n}",
                          "body": f"Body {n}.", "published_at": "2025-01-01T00:00:00Z", **kw}, now)


def _stored(session: Session, external_id: str) -> Article:
    return session.scalars(select(Article).where(Article.external_id == external_id)).one()


def test_new_changed_and_unchanged_articles_are_told_apart(session: Session) -> None:
    first = upsert_articles(session, [_item(1), _item(2)])
    session.commit()
    ids = {a.external_id: a.id for a in session.scalars(select(Article))}
    assert sorted(first.added) == sorted(ids.values()) and first.updated == []
    again = upsert_articles(session, [_item(1, body="Rewritten."), _item(2), _item(3)])
    session.commit()
    assert again.updated == [ids["a1"]] and again.unchanged == [ids["a2"]]
    assert again.added == [_stored(session, "a3").id]
    assert again.changed == again.added + again.updated
    stored = _stored(session, "a1")
    assert (stored.id, stored.body, stored.word_count) == (ids["a1"], "Rewritten.", 1)
    assert stored.content_hash == _item(1, body="Rewritten.").content_hash


def test_repeating_an_upsert_changes_nothing(session: Session) -> None:
    upsert_articles(session, [_item(1), _item(2)])
    session.commit()
    before = {a.external_id: (a.id, a.modified) for a in session.scalars(select(Article))}
    result = upsert_articles(session, [_item(1), _item(2)])
    session.commit()
    assert (result.added, result.updated, len(result.unchanged)) == ([], [], 2)
    assert {a.external_id: (a.id, a.modified) for a in session.scalars(select(Article))} == before


def test_an_undated_article_keeps_the_moment_it_first_went_live(session: Session) -> None:
    upsert_articles(session, [_item(1, published_at=None)])
    session.commit()
    later = NOW + timedelta(hours=5)
    result = upsert_articles(session, [_item(1, now=later, published_at=None)])
    assert result.unchanged and _stored(session, "a1").published_at == NOW
    dated = upsert_articles(session, [_item(1, published_at="2025-05-01T00:00:00Z")])
    assert dated.updated and _stored(session, "a1").published_at == datetime(2025, 5, 1, tzinfo=UTC)


def test_urls_under_another_id_are_conflicts(session: Session) -> None:
    upsert_articles(session, [_item(1), _item(2)])
    session.commit()
    batch = [_item(1, title="Same article, same URL"),
             _item(7, url="https://mag.example/2"),
             _item(8)]
    assert find_url_conflicts(session, batch) == {"https://mag.example/2": "a2"}
    assert find_url_conflicts(session, []) == {}


def test_large_batches_are_read_in_chunks(session: Session) -> None:
    upsert_articles(session, [_item(n) for n in range(1200)])
    session.commit()
    moved = [_item(5000 + n, url=f"https://mag.example/{n}") for n in range(0, 1200, 100)]
    assert find_url_conflicts(session, moved) == {f"https://mag.example/{n}": f"a{n}"
                                                  for n in range(0, 1200, 100)}
    result = upsert_articles(session, [_item(n) for n in range(1200)])
    assert len(result.unchanged) == 1200


def test_two_sites_keep_their_own_articles_under_the_same_id(session: Session) -> None:
    one = parse_article({"id": "wp-1", "url": "https://one.example/hello/", "title": "One"})
    two = parse_article({"id": "wp-1", "url": "https://two.example/hello", "title": "Two"})
    first = upsert_articles(session, [one])
    second = upsert_articles(session, [two])
    session.commit()
    assert len(first.added) == len(second.added) == 1
    stored = {a.site: a for a in session.scalars(select(Article))}
    assert stored["one.example"].external_id == "wp-1"  # public ids never change
    assert stored["two.example"].external_id == "wp-1@two.example"
    assert stored["one.example"].canonical_url == "https://one.example/hello/"
    again = upsert_articles(session, [one, two])
    assert len(again.unchanged) == 2


def test_a_sync_finds_a_stored_article_by_its_url(session: Session) -> None:
    upsert_articles(session, [parse_article(
        {"id": "guid-9", "url": "https://one.example/p/9", "title": "From the feed"})])
    sitemap = parse_article({"id": "https://one.example/p/9", "url": "https://one.example/p/9",
                             "title": "From the sitemap"})
    result = upsert_articles(session, [sitemap], match_url=True)
    assert result.updated and not result.added
    assert session.scalars(select(Article)).one().title == "From the sitemap"


def test_long_qualified_ids_never_clash(session: Session) -> None:
    """Two sites whose hosts share a long prefix, each with the id another site already has:
    qualified ids past 255 characters used to be cut to the same value (a 500 on the webhook)."""
    base = ".".join(letter * 60 for letter in "abcd") + ".example"  # 251 characters: DNS allows it
    hosts = [base + suffix for suffix in ("", ":8080", ":8081")]
    for host in hosts:
        upsert_articles(session, [_item(1, url=f"https://{host}/story")])
        session.commit()
    ids = list(session.scalars(select(Article.external_id).order_by(Article.id)))
    assert len(set(ids)) == 3 and ids[0] == "a1"
    assert all(len(i) <= 255 and i.startswith("a1@") for i in ids[1:])
