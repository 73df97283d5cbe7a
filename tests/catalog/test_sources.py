"""Importing from feeds, WordPress and sitemaps, served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender import exits
from recommender.catalog.articles import parse_article
from recommender.catalog.sources import SourceError, sync_source
from recommender.catalog.sources.feeds import short_dek
from recommender.catalog.sources.wordpress import post_to_record
from recommender.catalog.storing import upsert_articles
from recommender.cli import main as cli
from recommender.storage.engine import make_engine
from recommender.storage.schema import Article

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
WP_PATH = "/wp-json/wp/v2/posts"
Reply = tuple[int, dict[str, str], bytes]


class FakeSite:
    """Fixture files under {{BASE}}, a fake WordPress API, and switches to make things fail."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.requests: list[str] = []
        self.overrides: dict[str, Reply | None] = {}  # path -> reply; None hangs
        self.posts: list[dict[str, Any]] = json.loads(self.file("wp-posts.json"))
        self.wp_page_size = 2  # whatever per_page says, so the six posts make three pages
        self.wp_total_header = True
        self.wp_fail: dict[int, int] = {}  # page -> HTTP status
        self.release = threading.Event()

    def file(self, name: str) -> bytes:
        return (FIXTURES / name).read_bytes().replace(b"{{BASE}}", self.base.encode())

    def url(self, path: str) -> str:
        return self.base + path

    def reply(self, target: str) -> Reply | None:
        parts = urlsplit(target)
        if parts.path in self.overrides:
            return self.overrides[parts.path]
        if parts.path == WP_PATH:
            return self.wordpress(parse_qs(parts.query))
        path = FIXTURES / parts.path.lstrip("/")
        if path.is_file() and FIXTURES in path.resolve().parents:
            kind = "text/html" if path.suffix == ".html" else "application/xml"
            return 200, {"Content-Type": f"{kind}; charset=utf-8"}, self.file(parts.path.lstrip("/"))
        return 404, {}, b"not found"

    def wordpress(self, query: dict[str, list[str]]) -> Reply:
        page = int(query.get("page", ["1"])[0])
        posts = self.posts
        if "modified_after" in query:
            after = datetime.fromisoformat(query["modified_after"][0].replace("Z", "+00:00"))
            posts = [p for p in posts if datetime.fromisoformat(p["modified_gmt"] + "+00:00") > after]
        if page in self.wp_fail:
            return self.wp_fail[page], {}, b'{"code": "internal_server_error"}'
        pages = max(1, math.ceil(len(posts) / self.wp_page_size))
        if page > pages:
            return 400, {"Content-Type": "application/json"}, json.dumps(
                {"code": "rest_post_invalid_page_number", "data": {"status": 400},
                 "message": "The page number requested is larger than the number of pages."}).encode()
        chunk = posts[(page - 1) * self.wp_page_size:page * self.wp_page_size]
        headers = {"Content-Type": "application/json"}
        if self.wp_total_header:
            headers.update({"X-WP-Total": str(len(posts)), "X-WP-TotalPages": str(pages)})
        return 200, headers, json.dumps(chunk).encode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        site: FakeSite = self.server.site  # type: ignore[attr-defined]
        site.requests.append(self.path)
        reply = site.reply(self.path)
        if reply is None:  # hang until the test ends
            site.release.wait(10)
            return
        status, headers, body = reply
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a hanging response


@pytest.fixture
def site() -> Iterator[FakeSite]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = FakeSite(f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server.site  # type: ignore[attr-defined]
    server.site.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()
    thread.join(5)


def _article(session: Session, external_id: str) -> Article:
    return session.scalars(select(Article).where(Article.external_id == external_id)).one()


def _snapshot(session: Session) -> dict[str, tuple[Any, ...]]:
    session.expire_all()
    return {a.external_id: (a.id, a.title, a.status, a.content_hash, a.modified)
            for a in session.scalars(select(Article))}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Article)) or 0


def test_rss_imports_fields_and_skips_invalid_items(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"rss:{site.url('/feed-rss.xml')}")
    session.commit()
    assert report.summary() == {"seen": 3, "added": 2, "updated": 0, "unchanged": 0, "skipped": 1,
                                "withdrawn": 0, "not_modified": 0}
    assert report.skipped[0][0].endswith("feed-rss.xml entry 3") and "title" in report.skipped[0][1]
    a = _article(session, "hr-1001")
    assert a.url == site.url("/2025/03/ferry-pilots")
    assert a.title == "The last ferry pilots of the estuary"
    assert a.dek == "Four pilots still steer the night crossings."
    assert a.body.startswith("Four pilots still steer the night crossings between the two towns.\n\nEach")
    assert (a.authors, a.tags, a.language) == (["Mira Okafor"], ["transport", "rivers"], "en")
    assert a.published_at == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    assert a.image == site.url("/img/ferry.jpg")
    b = _article(session, site.url("/2025/02/fish-market"))
    assert (b.authors, b.dek) == (["Jon Marsh"], "Landings fell by a third & prices rose.")
    assert b.body == "Landings fell by a third & prices rose. Traders blame the storms."


def test_atom_imports_fields_and_feed_since(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"atom:{site.url('/feed-atom.xml')}",
                         since=datetime(2025, 3, 4, tzinfo=UTC))
    assert (report.seen, len(report.added), report.not_modified) == (1, 1, 1)
    a = _article(session, "tag:harbour.example,2025:salt-marsh")
    assert (a.url, a.title) == (site.url("/2025/03/salt-marsh"), "Salt marsh, counted by hand")
    assert a.dek == "Volunteers spend a week each spring counting birds on the marsh."
    assert a.body.endswith("\n\nThe tally is done with clickers and notebooks.")
    assert (a.authors, a.tags) == (["Tomas Reyes", "Ada Lindqvist"], ["ecology", "volunteers"])
    assert (a.published_at, a.updated_at) == (datetime(2025, 3, 5, 8, tzinfo=UTC),
                                              datetime(2025, 3, 6, 10, 15, tzinfo=UTC))
    report = sync_source(session, f"atom:{site.url('/feed-atom.xml')}")
    undated = _article(session, "tag:harbour.example,2025:office-notes")
    assert undated.published_at == datetime(2025, 3, 2, 16, 45, tzinfo=UTC)  # from <updated>
    assert len(report.added) == 1 and report.unchanged == 1


def test_feed_from_a_local_file(session: Session, site: FakeSite, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(site.file("feed-rss.xml"))
    assert len(sync_source(session, f"rss:{path}").added) == 2
    assert site.requests == []


def test_short_dek_takes_the_first_sentence_or_300_characters() -> None:
    assert short_dek("<p>One. Two.</p>") == "One."
    long = "word " * 100
    assert len(short_dek(long)) <= 301 and short_dek(long).endswith("word…")


def test_wordpress_imports_three_pages_with_embedded_fields(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"wordpress:{site.url('')}/")
    session.commit()
    assert [parse_qs(urlsplit(r).query)["page"] for r in site.requests] == [["1"], ["2"], ["3"]]
    assert all("_embed=1" in r and "per_page=100" in r for r in site.requests)
    assert (report.seen, len(report.added), report.skipped) == (6, 6, [])
    a = _article(session, "wp-101")
    assert (a.url, a.title) == (site.url("/2025/01/tide-tables"), "Reading the tide tables – a primer")
    assert a.dek == "Why the printed numbers are wrong twice a month"
    assert a.body == ("The tables are computed years ahead from the moon’s orbit.\n\n"
                      "Wind and pressure move the water by more than a metre.")
    assert (a.authors, a.section, a.tags) == (["Mira Okafor"], "Science & Sea", ["tides", "navigation"])
    assert a.image == site.url("/wp-content/uploads/2025/tide-tables.jpg")
    assert a.published_at == datetime(2025, 1, 10, 8, tzinfo=UTC)
    assert _article(session, "wp-104").image is None
    assert _article(session, "wp-106").status == "scheduled"


def test_wordpress_stops_on_invalid_page_number_without_total_header(session: Session,
                                                                     site: FakeSite) -> None:
    site.wp_total_header = False
    report = sync_source(session, f"wordpress:{site.url('')}")
    assert len(report.added) == 6 and len(site.requests) == 4


@pytest.mark.parametrize(("status", "expected"), [
    ("publish", "published"), ("draft", "draft"), ("pending", "draft"), ("private", "draft"),
    ("future", "scheduled"), ("trash", "unpublished"), ("withdrawn", "unpublished")])
def test_wordpress_status_mapping(status: str, expected: str) -> None:
    assert post_to_record({"id": 1, "status": status})["status"] == expected


def test_wordpress_incremental_sync_updates_a_changed_post_in_place(session: Session,
                                                                   site: FakeSite) -> None:
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    before = _snapshot(session)["wp-102"]
    site.posts[1]["content"]["rendered"] = "<p>The yard now has four apprentices.</p>"
    site.posts[1]["modified_gmt"] = "2025-05-02T10:00:00"
    site.requests.clear()
    report = sync_source(session, f"wordpress:{site.url('')}", since=datetime(2025, 5, 1, tzinfo=UTC))
    session.commit()
    assert "modified_after=2025-05-01T00%3A00%3A00Z" in site.requests[0]
    assert (report.seen, report.added, report.updated) == (1, [], [before[0]])
    after = _snapshot(session)["wp-102"]
    assert after[0] == before[0] and after[3] != before[3]
    assert _article(session, "wp-102").body == "The yard now has four apprentices."


def test_wordpress_resync_is_idempotent(session: Session, site: FakeSite) -> None:
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    before = _snapshot(session)
    report = sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    session.commit()
    assert report.summary()["unchanged"] == 6
    assert (report.added, report.updated, report.withdrawn) == ([], [], [])
    assert _snapshot(session) == before


def test_deleted_post_is_withdrawn_only_for_its_site(session: Session, site: FakeSite) -> None:
    other = parse_article({"id": "wp-103x", "url": "https://elsewhere.example/p", "title": "Other"})
    upsert_articles(session, [other])
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    del site.posts[2]
    report = sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    session.commit()
    assert report.withdrawn == ["wp-103"]
    assert _article(session, "wp-103").status == "unpublished"
    assert _article(session, "wp-103x").status == "published"
    again = sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    assert again.withdrawn == []
    with pytest.raises(ValueError, match="full"):
        sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True, since=datetime.now(UTC))
    site.posts.clear()  # an empty answer is more likely a broken site than a deleted archive
    with pytest.raises(SourceError, match="refusing to withdraw"):
        sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)


def test_wordpress_500_on_page_2_stores_nothing(session: Session, site: FakeSite) -> None:
    site.wp_fail[2] = 500
    with pytest.raises(SourceError, match=r"page=2.*HTTP 500"):
        sync_source(session, f"wordpress:{site.url('')}")
    assert _count(session) == 0
    del site.wp_fail[2]
    sync_source(session, f"wordpress:{site.url('')}")
    session.commit()
    before = _snapshot(session)
    site.posts[0]["title"]["rendered"] = "A new title that must not land"
    site.wp_fail[2] = 500
    with pytest.raises(SourceError, match="HTTP 500"):
        sync_source(session, f"wordpress:{site.url('')}", withdraw_missing=True)
    session.rollback()
    assert _snapshot(session) == before


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
    assert _count(session) == 0


def test_a_hanging_server_times_out(session: Session, site: FakeSite) -> None:
    site.overrides["/feed-rss.xml"] = None
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"feed-rss\.xml: timed out after 0\.5 s"):
        sync_source(session, f"rss:{site.url('/feed-rss.xml')}", timeout=0.5)
    assert time.monotonic() - started < 3
    assert _count(session) == 0


def test_sitemap_index_imports_pages_with_page_metadata(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"sitemap:{site.url('/sitemap-index.xml')}")
    assert (report.seen, len(report.added), report.skipped) == (3, 3, [])
    a = _article(session, site.url("/2025/04/lighthouse-keepers"))  # the canonical URL
    assert (a.title, a.section, a.content_type) == ("The keepers who stayed", "Heritage", "news")
    assert a.dek.startswith("Automation ended the job in 1998")
    assert a.body.startswith("When the lamp was automated") and "\n\nThey keep a log" in a.body
    assert (a.authors, a.tags) == (["Ada Lindqvist", "Tomas Reyes"],
                                   ["lighthouses", "automation", "oral history"])
    assert (a.published_at, a.updated_at) == (datetime(2025, 4, 14, 7, tzinfo=UTC),
                                              datetime(2025, 4, 15, 9, tzinfo=UTC))
    assert a.image == site.url("/img/keepers.jpg")
    b = _article(session, site.url("/2025/04/oyster-beds"))  # Open Graph only
    assert (b.title, b.section, b.tags, b.authors) == (
        "Oyster beds recover in the estuary", "Science & Sea", ["oysters", "estuary"], ["Mira Okafor"])
    c = _article(session, site.url("/2025/01/harbour-wall"))  # JSON-LD in an @graph
    assert (c.content_type, c.section, c.authors) == ("opinion", "Opinion", ["Jon Marsh"])
    assert c.updated_at == datetime(2025, 1, 5, 17, 30, tzinfo=UTC)  # from lastmod


def test_sitemap_lastmod_incremental_change_and_withdraw(session: Session, site: FakeSite) -> None:
    sync_source(session, f"sitemap:{site.url('/sitemap.xml')}")
    session.commit()
    before = _snapshot(session)
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
    assert _snapshot(session)[oyster][3] != before[oyster][3]
    site.overrides["/pages/harbour-wall.html"] = (404, {}, b"gone")
    report = sync_source(session, f"sitemap:{site.url('/sitemap.xml')}", withdraw_missing=True)
    session.commit()
    assert report.skipped == [(site.url("/pages/harbour-wall.html"), "HTTP 404 Not Found")]
    assert report.withdrawn == [site.url("/2025/01/harbour-wall")]
    assert _snapshot(session)[site.url("/2025/01/harbour-wall")][2] == "unpublished"


def test_an_undated_entry_keeps_its_first_import_date(sqlite_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "undated.xml"
    path.write_text('<rss version="2.0"><channel><title>T</title><item><title>Undated</title>'
                    "<link>https://mag.example/undated</link></item></channel></rss>")
    sync_source(sqlite_session, f"rss:{path}")
    sqlite_session.commit()
    first = _article(sqlite_session, "https://mag.example/undated").published_at
    report = sync_source(sqlite_session, f"rss:{path}")
    assert report.unchanged == 1 and not report.updated
    assert _article(sqlite_session, "https://mag.example/undated").published_at == first is not None


def test_duplicates_and_taken_urls_are_skipped_and_listed(sqlite_session: Session,
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
    assert (report.seen, len(report.added)) == (5, 1)
    assert report.skipped == [  # a URL taken by a stored article is listed last, under that URL
        (f"{path} entry 2", f"duplicate id 'tag:mag.example,2025:one' (first at {path} entry 1)"),
        (f"{path} entry 3", f"duplicate url https://mag.example/1 (first at {path} entry 1)"),
        (f"{path} entry 5", "title: required (non-empty text)"),
        ("https://mag.example/taken", "url: already used by article 'stored'")]


def test_bad_specs_are_value_errors(sqlite_session: Session) -> None:
    for spec in ("ftp:x", "rss:", "nothing"):
        with pytest.raises(ValueError, match="bad source"):
            sync_source(sqlite_session, spec)
    with pytest.raises(ValueError, match="withdraw_missing"):
        sync_source(sqlite_session, "rss:/tmp/x.xml", withdraw_missing=True)


def test_cli_import_source(sqlite_url: str, site: FakeSite, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RELATED_DATABASE_URL", sqlite_url)
    site.wp_fail[3] = 503
    args = ["import", "--source", f"rss:{site.url('/feed-rss.xml')}", "--source",
            f"wordpress:{site.url('')}"]
    assert cli.main(args) == exits.FAILED
    assert "page=3" in capsys.readouterr().err
    engine = make_engine(sqlite_url)
    with Session(engine) as check:
        assert _count(check) == 0  # the feed had been upserted, but nothing was committed
    engine.dispose()
    site.wp_fail.clear()
    assert cli.main([*args, "--since", "2025-01-01"]) == exits.OK
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert (summary["seen"], summary["added"], summary["skipped"]) == (9, 8, 1)
    assert "skipped: " in err and "title" in err
    assert cli.main(["import", "--since", "yesterday", "--source", "rss:x"]) == exits.USAGE
    assert cli.main(["import", "--source", "gopher:x"]) == exits.USAGE
    assert cli.main(["import"]) == exits.USAGE
