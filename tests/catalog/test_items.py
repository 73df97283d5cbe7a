"""The catalogue as the ranker sees it: ItemInfo records, active rules, the section fallback and
the cache that spares a preview from reading every article
(SQLite and, with TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from recommender.catalog.items import (
    CatalogCache,
    ItemInfo,
    active_curations,
    info_of,
    load_items,
    publisher_of,
    recent_by_section,
)
from recommender.storage.schema import Article, Curation, utcnow


def _catalogue(session: Session) -> list[Article]:
    now = utcnow()
    rows = [
        Article(external_id="old", url="https://www.mag.example/old", title="Old", section="Asia",
                authors=["Ann"], tags=["india"], status="published",
                published_at=now - timedelta(days=9), content_hash="h"),
        Article(external_id="new", url="https://mag.example/new", title="New", section="Asia",
                status="published", published_at=now - timedelta(days=1), content_hash="h"),
        Article(external_id="soon", url="https://mag.example/soon", title="Soon", section="Asia",
                status="scheduled", published_at=now + timedelta(days=1), content_hash="h"),
        Article(external_id="draft", url="https://other.example/d", title="Draft", section="Asia",
                status="draft", published_at=now - timedelta(days=2), content_hash="h"),
        Article(external_id="eval", url="https://eval.invalid/x", title="Eval", section="",
                language="fr", content_type="review", status="published",
                published_at=now - timedelta(days=3), content_hash="h"),
    ]
    session.add_all(rows)
    session.commit()
    return rows


def test_load_items_reads_metadata_and_liveness(session: Session) -> None:
    old, new, soon, draft, evaluation = _catalogue(session)
    items = load_items(session)
    assert items[old.id] == ItemInfo(id=old.id, section="Asia", content_type="news", language="en",
                                     authors=("Ann",), tags=("india",),
                                     published_at=old.published_at, live=True,
                                     publisher="mag.example")
    assert [items[a.id].live for a in (new, soon, draft, evaluation)] == [True, False, False, True]
    assert (items[evaluation.id].publisher, items[evaluation.id].language) == ("", "fr")
    assert load_items(session, now=utcnow() + timedelta(days=2))[soon.id].live
    assert set(load_items(session, ids=[new.id, draft.id])) == {new.id, draft.id}


def test_info_of_one_article_matches_load_items(session: Session) -> None:
    rows = _catalogue(session)
    now = utcnow()
    items = load_items(session, now)
    assert all(info_of(a, now) == items[a.id] for a in rows)


def test_publisher_is_the_host_without_www() -> None:
    assert publisher_of("https://www.mag.example/a") == "mag.example"
    assert publisher_of("https://eval.invalid/a") == ""
    assert publisher_of("not a url") == ""


def test_recent_by_section_lists_live_articles_newest_first(session: Session) -> None:
    old, new, _, _, _ = _catalogue(session)
    sections = recent_by_section(load_items(session))
    assert {s: [i.id for i in group] for s, group in sections.items()} == {"Asia": [new.id, old.id]}
    assert [i.id for i in recent_by_section(load_items(session), per_section=1)["Asia"]] == [new.id]


def test_active_curations_skip_expired_rules_and_other_pages(session: Session) -> None:
    a, b, c, d, _ = _catalogue(session)
    now = utcnow()
    session.add_all([
        Curation(kind="pin", article_id=a.id, target_id=b.id, position=2, created_by="ed"),
        Curation(kind="block", article_id=a.id, target_id=c.id, created_by="ed"),
        Curation(kind="block", article_id=None, target_id=d.id, created_by="ed"),
        Curation(kind="block", article_id=b.id, target_id=c.id, created_by="ed"),
        Curation(kind="pin", article_id=a.id, target_id=d.id, position=1, created_by="ed",
                 expires_at=now - timedelta(minutes=1)),
    ])
    session.commit()
    rules = active_curations(session, now)
    assert dict(rules.pins) == {a.id: [(b.id, 2)]}
    assert rules.site_blocks == {d.id}
    assert rules.blocked_for(a.id) == frozenset({c.id, d.id})
    assert rules.blocked_for(c.id) == frozenset({d.id})
    for_a = active_curations(session, now, article_id=a.id)
    assert set(for_a.blocks) == {a.id} and for_a.site_blocks == {d.id}
    earlier = active_curations(session, now - timedelta(hours=1))  # before the pin expired
    assert earlier.pins[a.id] == [(b.id, 2), (d.id, 1)]  # in the order the rules were made


def test_catalog_cache_reloads_only_when_an_article_changes(session: Session) -> None:
    rows = _catalogue(session)
    cache = CatalogCache(max_age=3600)
    items, sections = cache.get(session)
    assert cache.get(session)[0] is items  # nothing changed: the same objects
    rows[0].section = "Europe"
    session.commit()
    reloaded, sections = cache.get(session)
    assert reloaded is not items and reloaded[rows[0].id].section == "Europe"
    assert set(sections) == {"Asia", "Europe"}
    stale = CatalogCache(max_age=0)  # liveness is re-read however quiet the catalogue
    first = stale.get(session)[0]
    assert stale.get(session)[0] is not first


def test_the_fallback_keeps_the_newest_of_each_language() -> None:
    """A French page in a mostly English section still has French filler to take."""
    now = utcnow()
    items = {i: ItemInfo(id=i, section="Asia", language="en", published_at=now - timedelta(hours=i))
             for i in range(1, 6)}
    items[9] = ItemInfo(id=9, section="Asia", language="fr", published_at=now - timedelta(days=9))
    assert [i.id for i in recent_by_section(items, per_section=2)["Asia"]] == [1, 2, 9]
