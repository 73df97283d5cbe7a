"""Readers' feedback end to end in headless Chromium: the demo article page, its box scrolled into
view, a teaser clicked; ``related-reading stats --json`` then shows one impression and one click
at that position. Do Not Track and Global Privacy Control are honoured; a replayed batch counts
once; bad batches sent from the page get 400 and store nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from recommender.cli.main import main
from recommender.settings import Settings
from recommender.storage.feedback_tables import FeedbackEvent
from recommender.storage.schema import Article
from tests.helpers.browser import CHROMIUM, serving, watch_console
from web import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
SMALL = {"width": 1000, "height": 420}  # the box starts below the fold
EVENTS = "/api/v1/events"
SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "performance.png"


@pytest.fixture
def site(demo_settings: Settings) -> Iterator[tuple[str, Any]]:
    app = create_app(demo_settings)
    with serving(app) as origin:
        yield origin, app


def _rows(app: Any, kind: str | None = None) -> int:
    with app.extensions["related"].session_factory() as session:
        query = select(func.count()).select_from(FeedbackEvent)
        if kind:
            query = query.where(FeedbackEvent.kind == kind)
        return session.scalar(query) or 0


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the events to be stored"
        time.sleep(0.1)


def _stats(demo_dir: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    monkeypatch.setenv("RELATED_DATA_DIR", str(demo_dir))
    capsys.readouterr()
    assert main(["stats", "--days", "1", "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _open(browser: Any, origin: str, **context: Any) -> tuple[Any, Any, list[str], list[Any]]:
    ctx = browser.new_context(viewport=SMALL, **context)
    page = ctx.new_page()
    errors = watch_console(page)
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith(EVENTS) else None)
    page.goto(f"{origin}/demo/articles/demo-001")
    page.wait_for_selector("[data-related-reading][data-rr-state=filled] .rr-item",
                           timeout=15_000)
    return ctx, page, errors, sent


def test_impression_and_click_reach_stats(site: tuple[str, Any], browser: Any, demo_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    origin, app = site
    ctx, page, errors, sent = _open(browser, origin)
    page.wait_for_timeout(1500)
    assert _rows(app) == 0 and sent == []  # below the fold: not seen, nothing sent
    page.locator(".rr-related").scroll_into_view_if_needed()
    page.wait_for_selector("[data-related-reading][data-rr-seen]", state="attached",
                           timeout=5_000)
    _until(lambda: _rows(app, "impression") == 4)  # the box and its three teasers
    impression = json.loads(sent[0].post_data)["events"][0]
    assert impression["page"] == "demo-001" and impression["arm"] == "default"
    assert len(impression["token"]) == 32 and len(impression["items"]) == 3

    second = page.locator(".rr-item a.rr-title").nth(1)
    target = second.get_attribute("data-rr-id")
    assert (second.get_attribute("href") or "").startswith("https://meridian.example/")
    second.click()
    page.wait_for_url(f"**/demo/articles/{target}")
    _until(lambda: _rows(app, "click") == 1)
    page.goto("about:blank")  # the next page's box is never seen
    assert errors == []

    # The same batch again (a retry, a replay): the view's token makes it count once.
    replay = ctx.new_page()
    replay.goto(f"{origin}/healthz")
    for _ in range(2):
        status = replay.evaluate(
            "([url, body]) => fetch(url, {method: 'POST', body: body,"
            " headers: {'Content-Type': 'text/plain'}}).then(r => r.status)",
            [f"{origin}{EVENTS}", sent[0].post_data])
        assert status == 204
    ctx.close()

    doc = _stats(demo_dir, monkeypatch, capsys)
    assert (doc["impressions"], doc["clicks"], doc["ctr"]) == (1, 1, 1.0)
    assert doc["by_position"]["2"] == {"impressions": 1, "clicks": 1, "ctr": 1.0}
    assert doc["by_position"]["1"]["clicks"] == 0
    assert doc["arms"]["default"]["clicks"] == 1


def test_do_not_track_and_gpc_record_nothing(site: tuple[str, Any], browser: Any) -> None:
    origin, app = site
    # The header alone (the browser's setting reaches the server): sent, but not recorded.
    ctx, page, errors, _ = _open(browser, origin, extra_http_headers={"DNT": "1"})
    page.locator(".rr-related").scroll_into_view_if_needed()
    page.locator(".rr-item a.rr-title").first.click()
    page.wait_for_url("**/demo/articles/demo-*")
    page.wait_for_timeout(1500)
    assert errors == []
    ctx.close()
    # Global Privacy Control in the page: the script sends nothing at all.
    ctx = browser.new_context(viewport=SMALL)
    ctx.add_init_script("Object.defineProperty(navigator, 'globalPrivacyControl', "
                        "{get: () => true})")
    page = ctx.new_page()
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith(EVENTS) else None)
    page.goto(f"{origin}/demo/articles/demo-001")
    page.wait_for_selector("[data-rr-state=filled] .rr-item", timeout=15_000)
    page.locator(".rr-related").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.locator(".rr-item a.rr-title").first.click()
    page.wait_for_url("**/demo/articles/demo-*")
    ctx.close()
    assert sent == []
    assert _rows(app) == 0


def test_bad_batches_from_a_page_get_400(site: tuple[str, Any], browser: Any) -> None:
    origin, app = site
    page = browser.new_page()
    page.goto(f"{origin}/healthz")
    post = ("body => fetch('/api/v1/events', {method: 'POST', body: body,"
            " headers: {'Content-Type': 'text/plain'}}).then(r => r.json().then("
            "j => [r.status, j.error.message]))")
    token = "a" * 32
    one = {"type": "impression", "page": "demo-001", "token": token, "items": ["demo-002"]}
    cases = {
        "x" * 20_000: "at most 16384",
        json.dumps({"events": [one] * 1000}): "at most",
        json.dumps({"events": [{**one, "items": ["missing-article"]}]}): "unknown article",
        json.dumps({"events": [{**one, "items": "demo-002"}]}): "events[0].items",
    }
    for body, message in cases.items():
        status, text = page.evaluate(post, body)
        assert status == 400 and message in text
    page.close()
    assert _rows(app) == 0


def _seed(app: Any, days: int = 14) -> None:
    """Two weeks of plausible traffic over the demo: more views on some pages, CTR falling by
    position. Seeded, so the screenshot is stable."""
    import random
    from datetime import timedelta

    from sqlalchemy import select as sql_select

    from recommender.feedback.events import parse_batch, store
    from recommender.storage.schema import RelatedItem, utcnow
    from tests.helpers.feedback import batch, click, impression, token

    rng = random.Random(16)
    with app.extensions["related"].session_factory() as session:
        external = {i: e for i, e in session.execute(sql_select(Article.id, Article.external_id))}
        lists: dict[str, list[str]] = {}
        for page, target in session.execute(sql_select(RelatedItem.article_id,
                                                       RelatedItem.target_id)
                                            .order_by(RelatedItem.article_id, RelatedItem.position)):
            lists.setdefault(external[page], []).append(external[target])
        pages = sorted(lists)
        for day in range(days):
            events = []
            for _ in range(60):
                page = pages[min(len(pages) - 1, int(rng.expovariate(1 / 12)))]
                items, view = lists[page][:3], token()
                events.append(impression(page, items, view))
                for position, item in enumerate(items, start=1):
                    if rng.random() < 0.09 / position:
                        events.append(click(page, item, position, view))
            for start in range(0, len(events), 40):
                store(session, parse_batch(batch(*events[start:start + 40])),
                      now=utcnow() - timedelta(days=day, hours=1))
        session.commit()


def test_the_performance_page_in_a_browser(demo_settings: Settings, browser: Any) -> None:
    from tests.helpers.editing import EDITOR, PASSWORD, add_editor

    app = create_app(demo_settings)
    add_editor(app)
    _seed(app)
    with serving(app) as origin:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = watch_console(page)
        page.goto(f"{origin}/editor/performance")
        page.fill("input[name=name]", EDITOR)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{origin}/editor/performance")
        assert page.locator("svg.ed-chart").count() == 5
        bars = page.locator("section:has(h2:text('CTR by position')) svg rect")
        assert bars.count() == 3
        widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(3)]
        assert widths[0] > widths[2] > 0  # position 1 is clicked most
        assert page.locator("#gini").inner_text() != "0.00"
        assert page.locator("svg polyline").count() == 1  # coverage over the days
        shot = page.screenshot(full_page=True)
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("UPDATE_SCREENSHOTS"):
            SHOT.parent.mkdir(parents=True, exist_ok=True)
            SHOT.write_bytes(shot)
        assert errors == []
