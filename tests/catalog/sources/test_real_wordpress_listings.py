"""Feeds, core sitemaps and withdrawal against a real WordPress (``tests/helpers/wordpress.py``):
only articles are imported, an article is one article whichever source lists it, and withdrawal
is decided per site over all its sources, on incremental runs too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.catalog.sources import SourceError, SyncRun, sync_source
from recommender.storage.schema import Article
from tests.helpers.wordpress import WordPressSite


def _live(session: Session, site: WordPressSite) -> set[str]:
    session.expire_all()
    host = site.url.split("/")[2]
    return set(session.scalars(select(Article.url).where(Article.site == host,
                                                         Article.status == "published")))


def _new_post(site: WordPressSite, title: str) -> int:
    return int(site.php(f"echo wp_insert_post(['post_title' => '{title}', 'post_status' => "
                        "'publish', 'post_content' => '<p>A story. It ends here.</p>']);"))


def test_core_sitemap_yields_only_posts_and_one_article_per_post(
        sqlite_session: Session, wp_main: WordPressSite) -> None:
    """The sitemap index lists pages, categories, tags and users too: none become articles; the
    protected post is not public; a feed seen first and the REST API later change nothing."""
    feed = sync_source(sqlite_session, f"rss:{wp_main.url}/feed/")
    assert wp_main.link("protected").rstrip("/") not in _live(sqlite_session, wp_main)
    run = SyncRun()
    report = sync_source(sqlite_session, f"sitemap:{wp_main.url}/wp-sitemap.xml", run=run,
                         withdraw_missing=True)
    sync_source(sqlite_session, f"wordpress:{wp_main.url}", run=run, withdraw_missing=True)
    assert run.withdraw(sqlite_session) == []
    live = _live(sqlite_session, wp_main)
    assert len(live) == 126  # 127 published posts, less the protected one
    assert not any(u.rstrip("/") == wp_main.url or "/category/" in u or "/author/" in u
                   or "/tag/" in u or u.endswith(("/welcome", "/about-us")) for u in live)
    assert not [r for r in report.skipped if "HTTP" in r[1]]
    total = sqlite_session.scalar(select(func.count()).select_from(Article))
    assert total == 127  # feed entries, sitemap pages and REST posts: one article each
    assert len(feed.added) == 10  # the feed's ten latest, merged into the same articles since


def test_withdrawal_is_per_site_and_sees_every_source_of_the_site(
        sqlite_session: Session, wp_main: WordPressSite, wp_second: WordPressSite) -> None:
    sync_source(sqlite_session, f"wordpress:{wp_main.url}")
    before_main = _live(sqlite_session, wp_main)
    # the second site's sitemap lists its posts; the main site's articles are not its business
    run = SyncRun()
    sync_source(sqlite_session, f"sitemap:{wp_second.url}/?sitemap=index", run=run,
                withdraw_missing=True)
    sync_source(sqlite_session, f"wordpress:{wp_second.url}", run=run, withdraw_missing=True)
    assert run.withdraw(sqlite_session) == []
    assert _live(sqlite_session, wp_main) == before_main
    assert len(_live(sqlite_session, wp_second)) == 6


def test_an_incremental_sync_withdraws_what_the_site_trashed(sqlite_session: Session,
                                                            wp_second: WordPressSite) -> None:
    post = _new_post(wp_second, "Soon in the bin")
    sync_source(sqlite_session, f"wordpress:{wp_second.url}")
    sqlite_session.commit()
    wp_second.php(f"wp_trash_post({post});")
    try:
        run = SyncRun()
        since = datetime.now(UTC) - timedelta(minutes=5)
        report = sync_source(sqlite_session, f"wordpress:{wp_second.url}", since=since, run=run)
        assert report.not_modified == 0 and len(report.added) == 0
        withdrawn = run.withdraw(sqlite_session)
        assert withdrawn == [f"wp-{post}@{wp_second.url.split('/')[2]}"] or withdrawn == [
            f"wp-{post}"]
        assert len(_live(sqlite_session, wp_second)) == 6
    finally:
        wp_second.php(f"wp_delete_post({post}, true);")


def test_a_feed_that_is_html_and_a_site_without_posts_store_nothing(
        sqlite_session: Session, wp_main: WordPressSite) -> None:
    with pytest.raises(SourceError, match="not an RSS or Atom document"):
        sync_source(sqlite_session, f"rss:{wp_main.url}/")
    with pytest.raises(SourceError, match="HTTP 404"):
        sync_source(sqlite_session, f"sitemap:{wp_main.url}/no-such-sitemap.xml")
    assert sqlite_session.scalar(select(func.count()).select_from(Article)) == 0
