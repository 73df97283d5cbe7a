"""The widget in a real browser: headless Chromium embedding it from another origin.

The app serves the demo magazine on one port; a "publisher" page on another port (another origin)
adds the script and two boxes. Chromium must render the teasers (titles, links, read times), leave
the box of an article with no related items empty (no orphan heading), and log no console errors.
Debian's chromium is driven by Playwright; no browser is ever downloaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from werkzeug.wrappers import Request, Response

from recommender.settings import Settings
from recommender.storage.schema import Article, RelatedItem
from tests.helpers.browser import CHROMIUM, serve, watch_console
from web import create_app

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "widget.png"
PAGE = "https://meridian.example/2025/12/russia-and-india-sign-oil-defence-and-payments-package-at-delhi-summit"
LONELY = "demo-040"  # its stored list is emptied below

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


def _host_page(widget_origin: str, lonely_url: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A publisher's page</title>
<link rel="canonical" href="{PAGE}"></head>
<body><h1>A publisher's article</h1><p>Some text.</p>
<div id="main-box" data-related-reading data-k="3"></div>
<div id="utm-box" data-related-reading data-url="{PAGE}?utm_source=newsletter" data-k="2"></div>
<div id="lonely-box" data-related-reading data-url="{lonely_url}"></div>
<script src="{widget_origin}/widget/v1.js" async></script>
</body></html>"""


@pytest.fixture
def servers(demo_settings: Settings) -> Iterator[tuple[str, str, Any]]:
    """(widget origin, host page URL, app): two servers on two origins."""
    page_html: dict[str, str] = {}

    @Request.application  # type: ignore[arg-type]
    def host(_request: Request) -> Response:
        return Response(page_html["body"], mimetype="text/html")

    host_server, host_origin = serve(host)
    app = create_app(replace(demo_settings, widget_origins=(host_origin,)))
    with app.extensions["related"].session_factory() as session:
        lonely = session.scalars(select(Article).where(Article.external_id == LONELY)).one()
        session.execute(delete(RelatedItem).where(RelatedItem.article_id == lonely.id))
        session.commit()
        lonely_url = lonely.url
    app_server, app_origin = serve(app)
    page_html["body"] = _host_page(app_origin, lonely_url)
    try:
        yield app_origin, host_origin + "/article", app
    finally:
        app_server.shutdown()
        host_server.shutdown()
        app.extensions["related"].engine.dispose()


def test_widget_renders_on_another_origin(servers: tuple[str, str, Any], browser: Any) -> None:
    _, host_url, _ = servers
    page = browser.new_page()
    errors = watch_console(page)
    page.goto(host_url)
    page.wait_for_selector("#main-box[data-rr-state=filled]", timeout=15_000)
    page.wait_for_selector("#utm-box[data-rr-state=filled]", timeout=15_000)
    page.wait_for_selector("#lonely-box[data-rr-state=empty]", state="attached", timeout=15_000)

    assert page.inner_text("#main-box .rr-heading").strip().lower() == "related reading"
    teasers = page.query_selector_all("#main-box .rr-item")
    assert len(teasers) == 3
    for teaser in teasers:
        link = teaser.query_selector("a.rr-title")
        assert link is not None and link.inner_text().strip()
        assert (link.get_attribute("href") or "").startswith("https://meridian.example/")
        assert re.fullmatch(r"○ \d+ mins? read", teaser.inner_text().splitlines()[-1].strip())
        assert (teaser.query_selector(".rr-dek") or link).inner_text().strip()
    assert len(page.query_selector_all("#utm-box .rr-item")) == 2  # ?utm_source= is ignored

    assert page.inner_html("#lonely-box") == ""  # no orphan heading
    assert page.query_selector("#lonely-box .rr-heading") is None
    assert errors == []


def test_demo_article_page_shows_the_widget(servers: tuple[str, str, Any], browser: Any) -> None:
    app_origin, _, _ = servers
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = watch_console(page)
    page.goto(f"{app_origin}/demo/articles/demo-001")
    page.wait_for_selector("[data-related-reading][data-rr-state=filled] .rr-item", timeout=15_000)
    assert len(page.query_selector_all(".rr-item")) == 3
    box = page.query_selector(".rr-related")
    assert box is not None
    box.scroll_into_view_if_needed()
    shot = page.screenshot(full_page=False)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    # Clicking a teaser opens the demo's copy of that article.
    page.click(".rr-item a.rr-title")
    page.wait_for_url(re.compile(r".*/demo/articles/demo-\d+$"))
    assert errors == []
