"""The WordPress REST API: pages of posts with embedded fields, statuses, incremental syncs and a
failed page that stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session

from recommender.catalog.sources import SourceError, sync_source
from recommender.catalog.sources.wordpress import post_to_record
from tests.helpers.sites import WP_PATH, FakeSite, count_articles, snapshot, stored


def test_wordpress_imports_three_pages_with_embedded_fields(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"wordpress:{site.url('')}/")
    session.commit()
    assert [parse_qs(urlsplit(r).query)["page"] for r in site.requests
            if r.startswith(WP_PATH)] == [["1"], ["2"], ["3"]]
    assert all("_embed=1" in r and "per_page=100" in r for r in site.requests if r != "/")
    assert (report.seen, len(report.added), report.skipped) == (6, 6, [])
    a = stored(session, "wp-101")
    assert (a.url, a.title) == (site.url("/2025/01/tide-tables"), "Reading the tide tables – a primer")
    assert a.dek == "Why the printed numbers are wrong twice a month"
    assert a.body == ("The tables are computed years ahead from the moon’s orbit.\n\n"
                      "Wind and pressure move the water by more than a metre.")
    assert (a.authors, a.section, a.tags) == (["Mira Okafor"], "Science & Sea", ["tides", "navigation"])
    assert a.image == site.url("/wp-content/uploads/2025/tide-tables.jpg")
    assert a.published_at == datetime(2025, 1, 10, 8, tzinfo=UTC)
    assert stored(session, "wp-104").image is None
    assert stored(session, "wp-106").status == "scheduled"


def test_wordpress_stops_on_invalid_page_number_without_total_header(session: Session,
                                                                     site: FakeSite) -> None:
    site.wp_total_header = False
    report = sync_source(session, f"wordpress:{site.url('')}")
    assert len(report.added) == 6 and len([r for r in site.requests if r != "/"]) == 4


@pytest.mark.parametrize(("status", "expected"), [
    ("publish", "published"), ("draft", "draft"), ("pending", "draft"), ("private", "draft"),
    ("future", "scheduled"), ("trash", "unpublished"), ("withdrawn", "unpublished")])
def test_wordpress_status_mapping(status: str, expected: str) -> None:
    assert post_to_record({"id": 1, "status": status})["status"] == expected


def test_wordpress_incremental_sync_updates_a_changed_post_in_place(session: Session,
                                                                   site: FakeSite) -> None:
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    before = snapshot(session)["wp-102"]
    site.posts[1]["content"]["rendered"] = "<p>The yard now has four apprentices.</p>"
    site.posts[1]["modified_gmt"] = "2025-05-02T10:00:00"
    site.requests.clear()
    report = sync_source(session, f"wordpress:{site.url('')}", since=datetime(2025, 5, 1, tzinfo=UTC))
    session.commit()
    assert "modified_after=2025-05-01T00%3A00%3A00Z" in site.requests[1]  # after "/" (discovery)
    assert (report.seen, report.added, report.updated) == (1, [], [before[0]])
    after = snapshot(session)["wp-102"]
    assert after[0] == before[0] and after[3] != before[3]
    assert stored(session, "wp-102").body == "The yard now has four apprentices."


def test_wordpress_resync_is_idempotent(session: Session, site: FakeSite) -> None:
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    before = snapshot(session)
    report = sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    session.commit()
    assert report.summary()["unchanged"] == 6
    assert (report.added, report.updated, report.withdrawn) == ([], [], [])
    assert snapshot(session) == before


def test_wordpress_500_on_page_2_stores_nothing(session: Session, site: FakeSite) -> None:
    site.wp_fail[2] = 500
    with pytest.raises(SourceError, match=r"page=2.*HTTP 500"):
        sync_source(session, f"wordpress:{site.url('')}")
    assert count_articles(session) == 0
    del site.wp_fail[2]
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    before = snapshot(session)
    site.posts[0]["title"]["rendered"] = "A new title that must not land"
    site.wp_fail[2] = 500
    with pytest.raises(SourceError, match="HTTP 500"):
        sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    session.rollback()
    assert snapshot(session) == before
