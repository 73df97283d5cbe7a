"""Sitemaps: an index of sitemaps, each page's metadata (meta tags, Open Graph, JSON-LD), lastmod for
incremental syncs, and pages gone from the site."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from recommender.catalog.sources import sync_source
from tests.helpers.sites import FakeSite, snapshot, stored


def test_sitemap_index_imports_pages_with_page_metadata(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"sitemap:{site.url('/sitemap-index.xml')}")
    assert (report.seen, len(report.added), report.skipped) == (3, 3, [])
    a = stored(session, site.url("/2025/04/lighthouse-keepers"))  # the canonical URL
    assert (a.title, a.section, a.content_type) == ("The keepers who stayed", "Heritage", "news")
    assert a.dek.startswith("Automation ended the job in 1998")
    assert a.body.startswith("When the lamp was automated") and "\n\nThey keep a log" in a.body
    assert (a.authors, a.tags) == (["Ada Lindqvist", "Tomas Reyes"],
                                   ["lighthouses", "automation", "oral history"])
    assert (a.published_at, a.updated_at) == (datetime(2025, 4, 14, 7, tzinfo=UTC),
                                              datetime(2025, 4, 15, 9, tzinfo=UTC))
    assert a.image == site.url("/img/keepers.jpg")
    b = stored(session, site.url("/2025/04/oyster-beds"))  # Open Graph only
    assert (b.title, b.section, b.tags, b.authors) == (
        "Oyster beds recover in the estuary", "Science & Sea", ["oysters", "estuary"], ["Mira Okafor"])
    c = stored(session, site.url("/2025/01/harbour-wall"))  # JSON-LD in an @graph
    assert (c.content_type, c.section, c.authors) == ("opinion", "Opinion", ["Jon Marsh"])
    assert c.updated_at == datetime(2025, 1, 5, 17, 30, tzinfo=UTC)  # from lastmod


def test_sitemap_lastmod_incremental_change_and_withdraw(session: Session, site: FakeSite) -> None:
    sync_source(session, f"sitemap:{site.url('/sitemap.xml')}")
    session.commit()
    before = snapshot(session)
    page = site.file("pages/oyster-beds.html").replace(b"three good years", b"five good years")
    site.overrides["/pages/oyster-beds.html"] = (200, {"Content-Type": "text/html"}, page)
    site.requests.clear()
    report = sync_source(session, f"sitemap:{site.url('/sitemap.xml')}",
                         since=datetime(2025, 4, 10, tzinfo=UTC))
    session.commit()
    assert not any("harbour-wall" in r for r in site.requests)
    assert (report.seen, report.not_modified, report.unchanged) == (2, 1, 1)
    oyster = site.url("/2025/04/oyster-beds")
    assert report.updated == [before[oyster][0]]
    assert snapshot(session)[oyster][3] != before[oyster][3]
    site.overrides["/pages/harbour-wall.html"] = (404, {}, b"gone")
    report = sync_source(session, f"sitemap:{site.url('/sitemap.xml')}", withdraw_missing=True)
    session.commit()
    assert report.skipped == [(site.url("/pages/harbour-wall.html"), "HTTP 404 Not Found")]
    assert report.withdrawn == [site.url("/2025/01/harbour-wall")]
    assert snapshot(session)[site.url("/2025/01/harbour-wall")][2] == "unpublished"


def test_a_sitemap_loop_ends_and_archives_are_not_articles(session: Session, tmp_path: Path,
                                                           site: FakeSite) -> None:
    index = tmp_path / "index.xml"
    child = tmp_path / "child.xml"
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    index.write_text(f'<sitemapindex {ns}><sitemap><loc>{child}</loc></sitemap>'
                     f'<sitemap><loc>{index}</loc></sitemap>'  # a loop: the index lists itself
                     f'<sitemap><loc>{tmp_path}/wp-sitemap-taxonomies-category-1.xml</loc>'
                     '</sitemap></sitemapindex>')
    child.write_text(f'<sitemapindex {ns}><sitemap><loc>{index}</loc></sitemap>'  # and back
                     f'<sitemap><loc>{site.url("/sitemap.xml")}</loc></sitemap></sitemapindex>')
    report = sync_source(session, f"sitemap:{index}")
    assert len(report.added) == 3 and report.skipped == []  # the category sitemap was not read


def test_pages_that_are_not_public_articles_are_skipped_with_the_reason() -> None:
    from recommender.catalog.sources.sitemap import not_an_article, read_head

    def why(url: str, html: str) -> str:
        return not_an_article(url, read_head(html))

    page = "https://mag.example/2025/story/"
    assert why(page, '<body class="post-template-default single single-post">') == ""
    assert why(page, '<body class="archive category category-climate">') == \
        "not an article (archive, category page)"
    assert why(page, '<meta property="og:type" content="website">') == \
        "not an article (og:type website)"
    assert why(page, '<script type="application/ld+json">{"@type": "CollectionPage"}</script>') \
        == "not an article (JSON-LD CollectionPage)"
    assert why(page, '<form class="post-password-form"></form>') == "password-protected"
    assert why(page, '<meta name="robots" content="noindex, follow">') == \
        "not public (robots noindex)"
    assert why("https://mag.example/", "<body>") == "not an article (front page)"


def test_pages_without_lastmod_are_not_refetched_by_an_incremental_sync(
        session: Session, tmp_path: Path, site: FakeSite) -> None:
    pages = [f"/2025/05/story-{n}/" for n in range(3)]
    for n, path in enumerate(pages):
        site.overrides[path] = (200, {"Content-Type": "text/html"}, (
            f'<html lang="en"><head><title>Story {n}</title><link rel="canonical" '
            f'href="{site.url(path)}"></head><body class="single single-post"><article>'
            f"<h1>Story {n}</h1><p>{'The tide came in again that night. ' * 20}</p></article>"
            "</body></html>").encode())
    sitemap = tmp_path / "sitemap.xml"
    sitemap.write_text('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
        f"<url><loc>{site.url(p)}</loc></url>" for p in pages) + "</urlset>")
    assert len(sync_source(session, f"sitemap:{sitemap}").added) == 3
    site.requests.clear()
    report = sync_source(session, f"sitemap:{sitemap}", since=datetime.now(UTC),
                         withdraw_missing=True)
    assert (report.not_modified, report.withdrawn, site.requests) == (3, [], [])
