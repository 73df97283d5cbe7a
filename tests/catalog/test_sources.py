"""Syncing a source (``catalog.sources``): specs, all-or-nothing fetching, the batch checks, undated
entries, withdrawing what a full sync no longer lists (``import --source``: tests/cli/test_main.py).

Each source kind has its own tests under tests/catalog/sources/; all fetch from a real HTTP server
on 127.0.0.1 (tests/helpers/sites.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recommender.catalog.articles import parse_article
from recommender.catalog.sources import SourceError, fetcher, sync_source
from recommender.catalog.storing import upsert_articles
from tests.helpers.sites import WP_PATH, FakeSite, count_articles, stored


def test_deleted_post_is_withdrawn_only_for_its_site(session: Session, site: FakeSite) -> None:
    other = parse_article({"id": "wp-103x", "url": "https://elsewhere.example/p", "title": "Other"})
    upsert_articles(session, [other])
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    del site.posts[2]
    report = sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    session.commit()
    assert report.withdrawn == ["wp-103"]
    assert stored(session, "wp-103").status == "unpublished"
    assert stored(session, "wp-103x").status == "published"
    again = sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    assert again.withdrawn == []
    # an incremental sync still sees the complete list of posts, so it withdraws too
    site.posts.pop(0)
    recent = sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True,
                         since=datetime.now(UTC))
    assert recent.withdrawn == ["wp-101"]
    site.posts.clear()  # an empty answer is more likely a broken site than a deleted archive
    with pytest.raises(SourceError, match="refusing to withdraw"):
        sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)


@pytest.mark.parametrize(("spec", "path", "message"), [
    ("rss", "/feed-broken.xml", "malformed feed: mismatched tag at line 8"),
    ("wordpress", WP_PATH, "malformed JSON"),
    ("sitemap", "/sitemap-broken.xml", "malformed sitemap XML"),
])
def test_malformed_documents_raise_and_store_nothing(session: Session, site: FakeSite, spec: str,
                                                     path: str, message: str) -> None:
    if spec == "wordpress":
        site.overrides[WP_PATH] = (200, {}, site.file("wp-broken.json"))
    target = site.url("" if spec == "wordpress" else path)
    with pytest.raises(SourceError, match=message) as info:
        sync_source(session, f"{spec}:{target}")
    assert site.url(path) in str(info.value)
    assert count_articles(session) == 0


def test_an_undated_entry_keeps_its_first_import_date(sqlite_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "undated.xml"
    path.write_text('<rss version="2.0"><channel><title>T</title><item><title>Undated</title>'
                    "<link>https://mag.example/undated</link></item></channel></rss>")
    sync_source(sqlite_session, f"rss:{path}")
    sqlite_session.commit()
    first = stored(sqlite_session, "https://mag.example/undated").published_at
    report = sync_source(sqlite_session, f"rss:{path}")
    assert report.unchanged == 1 and not report.updated
    assert stored(sqlite_session, "https://mag.example/undated").published_at == first is not None


def test_duplicates_are_skipped_and_a_stored_url_is_the_same_article(sqlite_session: Session,
                                                          tmp_path: Path) -> None:
    upsert_articles(sqlite_session, [parse_article(
        {"id": "stored", "url": "https://mag.example/taken", "title": "Stored"})])
    entries = [("One", "one", "https://mag.example/1"), ("Same id", "one", "https://mag.example/2"),
               ("Same URL", "three", "https://mag.example/1?utm_source=x"),
               ("Taken", "four", "https://mag.example/taken"), ("", "five", "https://mag.example/5")]
    path = tmp_path / "feed.xml"
    path.write_text('<rss version="2.0"><channel><title>T</title>' + "".join(
        f"<item><title>{title}</title><guid>tag:mag.example,2025:{guid}</guid><link>{link}</link>"
        "</item>"
        for title, guid, link in entries) + "</channel></rss>")
    report = sync_source(sqlite_session, f"rss:{path}")
    assert (report.seen, len(report.added), len(report.updated)) == (5, 1, 1)
    assert report.skipped == [
        (f"{path} entry 2", f"duplicate id 'tag:mag.example,2025:one' (first at {path} entry 1)"),
        (f"{path} entry 3", f"duplicate url https://mag.example/1 (first at {path} entry 1)"),
        (f"{path} entry 5", "title: required (non-empty text)")]
    # the feed's entry for a stored URL is that article (seen again), keeping its public id
    assert stored(sqlite_session, "stored").title == "Taken"


def test_bad_specs_are_value_errors(sqlite_session: Session) -> None:
    for spec in ("ftp:x", "rss:", "nothing"):
        with pytest.raises(ValueError, match="bad source"):
            sync_source(sqlite_session, spec)
    with pytest.raises(ValueError, match="withdraw_missing"):
        sync_source(sqlite_session, "rss:/tmp/x.xml", withdraw_missing=True)


LAZY = """
import sys
import recommender.catalog.sources as sources
import recommender.cli.main, recommender.jobs.reindex
heavy = ("feedparser", "trafilatura", "lxml", "justext")
assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]
sources.fetcher("rss")
assert "feedparser" in sys.modules and "trafilatura" not in sys.modules
sources.fetcher("wordpress")
assert "trafilatura" not in sys.modules
sources.fetcher("sitemap")
assert "trafilatura" in sys.modules
"""


def test_source_libraries_are_imported_only_when_their_source_is_used() -> None:
    """Issue #17 item 12: a reindex of a site with no sitemap source must not need trafilatura
    and lxml (nor feedparser without a feed), so an install missing one still reindexes."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", LAZY], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(ValueError, match="unknown source kind"):
        fetcher("gopher")
