"""The readers' path, on SQLite and PostgreSQL: an article found by CMS id or by any form of its
URL, only while live; its stored list re-checked on every read (liveness, blocks, pins), so a
change since the build reaches readers at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import String, func, literal, select
from sqlalchemy.orm import Session

from recommender.catalog.urls import normalize_url
from recommender.ranking.formulas import other_language
from recommender.readers import ArticleNotFound, find_article, related_for, same_language_clause
from recommender.storage.schema import Article, Curation, RelatedItem, utcnow


def _catalogue(session: Session, n: int = 8) -> list[Article]:
    """``n`` live articles; a0's stored list holds a1..a(n-1) in order, from build b1."""
    published = utcnow() - timedelta(days=1)
    rows = [Article(external_id=f"a{i}", url=f"https://site.example/news/{i}", title=f"Story {i}",
                    dek=f"Dek {i}", section="World", authors=["Ann", "Bo"], word_count=230 * i,
                    status="published", published_at=published, content_hash=f"{i:064d}")
            for i in range(n)]
    session.add_all(rows)
    session.flush()
    session.add_all(RelatedItem(article_id=rows[0].id, target_id=rows[i].id, position=i,
                                score=1 - i / 10 + 0.000049, fallback=i == n - 1, build_id="b1")
                    for i in range(1, n))
    session.commit()
    return rows


def _shown(session: Session, page: Article, k: int = 3) -> list[str]:
    return [t.id for t in related_for(session, page, k).items]


def test_find_by_id_or_by_any_form_of_the_url(session: Session) -> None:
    a = _catalogue(session, 2)
    assert find_article(session, external_id="a1") is a[1]
    for url in ("https://site.example/news/1", "https://SITE.example/news/1/?utm_source=x#top",
                "https://site.example:443/news/1?fbclid=abc"):
        assert find_article(session, url=url) is a[1], url
    with pytest.raises(ArticleNotFound, match="no published article with id 'nope'"):
        find_article(session, external_id="nope")
    with pytest.raises(ArticleNotFound, match=re.escape("with url 'https://site.example/news/9'")):
        find_article(session, url="https://site.example/news/9")
    with pytest.raises(ValueError, match="pass external_id or url"):
        find_article(session)


@pytest.mark.parametrize(("status", "days"), [("draft", -1), ("unpublished", -1),
                                               ("scheduled", 1), ("published", None)])
def test_only_a_live_article_is_found_unless_asked(session: Session, status: str,
                                                   days: int | None) -> None:
    a = _catalogue(session, 2)
    a[1].status = status
    a[1].published_at = None if days is None else utcnow() + timedelta(days=days)
    session.commit()
    with pytest.raises(ArticleNotFound):
        find_article(session, external_id="a1")
    with pytest.raises(ArticleNotFound):
        find_article(session, url=a[1].url)
    assert find_article(session, external_id="a1", live_only=False) is a[1]


def test_a_scheduled_article_is_found_once_its_time_has_come(session: Session) -> None:
    a = _catalogue(session, 2)
    a[1].status, a[1].published_at = "scheduled", utcnow() - timedelta(seconds=1)
    session.commit()
    assert find_article(session, external_id="a1") is a[1]


def test_the_list_is_the_stored_one_as_teasers(session: Session) -> None:
    a = _catalogue(session, 4)
    related = related_for(session, a[0], 5)
    assert (related.article_id, related.article_url, related.article_title, related.build_id) == \
        ("a0", a[0].url, "Story 0", "b1")
    assert [(t.id, t.position) for t in related.items] == [("a1", 1), ("a2", 2), ("a3", 3)]
    first, last = related.items[0], related.items[-1]
    assert (first.title, first.dek, first.url, first.section) == ("Story 1", "Dek 1",
                                                                 a[1].url, "World")
    assert first.authors == ("Ann", "Bo") and first.published_at == a[1].published_at
    assert (first.read_minutes, first.read_label) == (1, "1 min read")  # 230 words
    assert (last.read_minutes, last.read_label) == (3, "3 mins read")  # 690 words
    assert first.score == 0.9 and not first.pinned  # rounded to four places
    assert last.fallback and not first.fallback
    assert [t.id for t in related_for(session, a[0], 2).items] == ["a1", "a2"]


def test_an_article_without_a_stored_list_gets_an_empty_one(session: Session) -> None:
    a = _catalogue(session, 3)
    related = related_for(session, a[1], 5)
    assert related.items == () and related.build_id == ""


def test_items_no_longer_live_are_dropped_and_the_list_refilled(session: Session) -> None:
    a = _catalogue(session)
    a[1].status = "unpublished"
    a[2].published_at = utcnow() + timedelta(hours=1)  # moved into the future since the build
    session.commit()
    related = related_for(session, a[0], 3)
    assert [t.id for t in related.items] == ["a3", "a4", "a5"]
    assert [t.position for t in related.items] == [1, 2, 3]  # renumbered for the reader


def test_blocks_for_the_page_and_site_wide_apply_at_once(session: Session) -> None:
    a = _catalogue(session)
    session.add_all([Curation(kind="block", article_id=a[0].id, target_id=a[1].id,
                              created_by="ed"),
                     Curation(kind="block", article_id=None, target_id=a[3].id, created_by="ed"),
                     Curation(kind="block", article_id=a[5].id, target_id=a[2].id,
                              created_by="ed"),  # another page's rule
                     Curation(kind="block", article_id=a[0].id, target_id=a[4].id,
                              created_by="ed", expires_at=utcnow() - timedelta(minutes=1))])
    session.commit()
    assert _shown(session, a[0], 4) == ["a2", "a4", "a5", "a6"]


def test_pins_are_placed_live_and_never_show_what_readers_may_not_see(session: Session) -> None:
    a = _catalogue(session)
    session.add_all([Curation(kind="pin", article_id=a[0].id, target_id=a[6].id, position=1,
                              created_by="ed"),  # already in the list: moved, not repeated
                     Curation(kind="pin", article_id=a[0].id, target_id=a[5].id, position=12,
                              created_by="ed"),  # past the end of a short list: last
                     Curation(kind="pin", article_id=a[0].id, target_id=a[7].id, position=2,
                              created_by="ed")])
    session.add(Curation(kind="block", article_id=None, target_id=a[7].id, created_by="ed"))
    session.commit()
    related = related_for(session, a[0], 12)
    assert [t.id for t in related.items] == ["a6", "a1", "a2", "a3", "a4", "a5"]
    assert [t.pinned for t in related.items] == [True, False, False, False, False, True]
    assert related.items[0].score == 0.0 and not related.items[0].fallback
    a[6].status = "draft"  # a pinned article withdrawn: the pin shows nothing
    session.commit()
    assert _shown(session, a[0], 3) == ["a1", "a2", "a3"]


def test_the_etag_follows_what_a_reader_would_see(session: Session) -> None:
    a = _catalogue(session)
    first = related_for(session, a[0], 3).etag
    assert related_for(session, a[0], 3).etag == first  # nothing changed
    a[4].title = "Story 4, corrected"  # below the cut: the reader sees no change
    session.commit()
    assert related_for(session, a[0], 3).etag == first
    a[2].title = "Story 2, corrected"
    session.commit()
    second = related_for(session, a[0], 3).etag
    assert second != first
    a[1].status = "unpublished"
    session.commit()
    assert related_for(session, a[0], 3).etag not in (first, second)


@pytest.mark.parametrize(("page_language", "foreign"), [("en", "fr"), ("fr", "en")])
def test_no_other_language_reaches_readers(session: Session, page_language: str,
                                           foreign: str) -> None:
    """A stored list that holds another language (stored before an article's language was
    corrected) and a pin of a translation: neither is shown, in either direction."""
    a = _catalogue(session, 8)
    for article in a:
        article.language = page_language
    a[1].language = foreign
    a[6].language = foreign
    a[7].language = ""  # unknown: another language to a page whose language is known
    session.add(Curation(kind="pin", article_id=a[0].id, target_id=a[6].id, position=1,
                         created_by="t"))
    session.commit()
    assert _shown(session, a[0], 8) == ["a2", "a3", "a4", "a5"]
    assert [t.id for t in related_for(session, a[0], 3, same_language=False).items] \
        == ["a6", "a1", "a2"]
    a[0].language = ""  # a page of unknown language accepts any
    session.commit()
    assert _shown(session, a[0], 8) == ["a6", "a1", "a2", "a3", "a4", "a5", "a7"]


@pytest.mark.parametrize(("page", "other"), [("en", "en"), ("en", "fr"), ("en", ""), ("", "fr"),
                                             ("", "")])
def test_the_sql_language_rule_is_the_ranker_s(session: Session, page: str, other: str) -> None:
    shown = session.scalar(select(func.count()).where(
        same_language_clause(page, literal(other, String)))) == 1
    assert shown is not bool(other_language(page, other, unknown=""))


def test_a_url_no_article_can_have_is_not_found(session: Session) -> None:
    """The API passes the normalised URL on; normalised again (``?a`` becomes ``?a=``) it may
    pass the length limit: that names no article (a 404), never an error (it was a 500)."""
    url = "https://mag.example/" + "a" * 1000 + "?" + "&".join("b" * 3 + str(i) for i in range(200))
    normalised = normalize_url(url[:2048])
    assert len(normalised) > 2048
    with pytest.raises(ArticleNotFound):
        find_article(session, url=normalised)
