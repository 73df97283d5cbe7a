"""A fake publication site on 127.0.0.1 for the source tests: fixture files, a WordPress API and
switches that make it fail or hang; plus small readers of what a sync stored."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.storage.schema import Article

FIXTURES = Path(__file__).parent.parent / "catalog" / "sources" / "fixtures"
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


@contextmanager
def serve_site() -> Iterator[FakeSite]:
    """A FakeSite served on a free port until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = FakeSite(f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server.site  # type: ignore[attr-defined]
    finally:
        server.site.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(5)


def stored(session: Session, external_id: str) -> Article:
    """The stored article with this CMS id (exactly one)."""
    return session.scalars(select(Article).where(Article.external_id == external_id)).one()


def snapshot(session: Session) -> dict[str, tuple[Any, ...]]:
    """Every stored article's id, title, status, hash and last change, fresh from the database."""
    session.expire_all()
    return {a.external_id: (a.id, a.title, a.status, a.content_hash, a.modified)
            for a in session.scalars(select(Article))}


def count_articles(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Article)) or 0
