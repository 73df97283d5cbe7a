"""Editors find any article, in any status, by id, CMS id, URL or title words
(SQLite and, with TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recommender.catalog import finding
from recommender.storage.schema import Article

DAY = datetime(2025, 3, 1, tzinfo=UTC)


def _articles(session: Session) -> list[Article]:
    rows = [
        Article(external_id="cms-1", url="https://mag.example/oil", title="Oil deal signed in Delhi",
                status="published", published_at=DAY, content_hash="h"),
        Article(external_id="cms-2", url="https://mag.example/oil-2", title="Oil deal: the draft",
                status="draft", published_at=None, content_hash="h"),
        Article(external_id="cms-3", url="https://mag.example/pct", title="Rates up 100% in a year",
                status="unpublished", published_at=DAY - timedelta(days=1), content_hash="h"),
        Article(external_id="42", url="https://mag.example/n", title="Under_score story",
                status="scheduled", published_at=DAY + timedelta(days=400), content_hash="h"),
    ]
    session.add_all(rows)
    session.commit()
    return rows


def test_resolve_by_internal_id_cms_id_or_url(session: Session) -> None:
    oil, draft, _, numbered = _articles(session)
    assert finding.resolve(session, str(oil.id)) is oil
    assert finding.resolve(session, " cms-2 ") is draft  # any status
    assert finding.resolve(session, "HTTPS://Mag.example/oil/?utm_source=mail") is oil
    other_id = max(a.id for a in (oil, draft, numbered)) + 100
    assert finding.resolve(session, str(other_id)) is None
    assert session.get(Article, 42) is None
    assert finding.resolve(session, "42") is numbered  # no internal id 42: the CMS id "42"
    for junk in ("", "   ", "nothing-like-this", "https://", "x" * 3000):
        assert finding.resolve(session, junk) is None


def test_search_puts_the_exact_match_first_then_every_title_word(session: Session) -> None:
    oil, draft, _, _ = _articles(session)
    assert finding.search(session, "oil DEAL") == [oil, draft]  # dated first, newest first
    assert finding.search(session, "cms-2") == [draft]
    assert finding.search(session, "oil deal", limit=1) == [oil]
    assert finding.search(session, "oil nowhere") == []


def test_search_words_are_literal_not_patterns(session: Session) -> None:
    _, _, rates, numbered = _articles(session)
    assert finding.search(session, "100%") == [rates]
    assert finding.search(session, "under_score") == [numbered]
    assert finding.search(session, "%") == [] and finding.search(session, "_") == [numbered]


def test_recent_lists_the_last_changed_in_any_status_or_one(session: Session) -> None:
    rows = _articles(session)
    rows[1].title = "Oil deal: the second draft"
    session.commit()
    assert finding.recent(session)[0] is rows[1]
    assert set(finding.recent(session)) == set(rows)
    assert finding.recent(session, status="draft") == [rows[1]]
    assert len(finding.recent(session, limit=2)) == 2
