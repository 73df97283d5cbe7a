"""The editors' pages in a real browser: sign in, open an article, promote a candidate from below
the cut to position 1, and see it first in the widget on the demo article page.

Headless Chromium driven by Playwright exactly as ``tests/test_browser.py`` does; with
``UPDATE_SCREENSHOTS=1`` it also refreshes the README's screenshots of the editors' pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recommender.settings import Settings
from tests.helpers.browser import CHROMIUM, serving, watch_console
from tests.helpers.editing import EDITOR, PASSWORD, add_editor, article_id, use_fake_encoder
from web import create_app

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


@pytest.fixture
def served(demo_settings: Settings) -> Iterator[tuple[str, Any]]:
    app = create_app(demo_settings)
    use_fake_encoder(app)
    add_editor(app)
    with serving(app) as origin:
        yield origin, app


def _shot(page: Any, name: str) -> None:
    assert page.screenshot(full_page=False)[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def test_sign_in_pin_and_see_it_first_in_the_widget(served: tuple[str, Any],
                                                    browser: Any) -> None:
    origin, app = served
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = watch_console(page)
    article = article_id(app, "demo-001")
    page.goto(f"{origin}/editor/articles/{article}")
    assert "/editor/sign-in" in page.url  # not signed in yet
    page.fill("input[name=name]", EDITOR)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/editor/articles/{article}")
    assert page.query_selector("text=Why: the live ranking") is not None

    promote = page.query_selector("button[data-promote]")
    assert promote is not None, "no candidate below the cut to promote"
    promoted = int(promote.get_attribute("data-promote") or 0)
    with app.extensions["related"].session_factory() as session:
        from recommender.storage.schema import Article

        promoted_external = session.get(Article, promoted).external_id
    promote.click()  # position 1 is preselected
    page.wait_for_selector(".ed-flash-ok")
    first = page.query_selector("[data-readers] li")
    assert first is not None and first.get_attribute("data-id") == promoted_external
    _shot(page, "editor-article.png")

    page.goto(f"{origin}/demo/articles/demo-001")
    page.wait_for_selector("[data-related-reading][data-rr-state=filled] .rr-item", timeout=15_000)
    first_link = page.query_selector(".rr-item a.rr-title")
    assert first_link is not None and first_link.get_attribute("data-rr-id") == promoted_external

    page.goto(f"{origin}/editor/drafts")
    page.fill("input[name=title]", "India and Russia settle oil payments in rupees")
    page.fill("input[name=dek]", "A new payments channel sidesteps the dollar")
    page.fill("textarea[name=body]", "Delhi and Moscow agreed at the summit to settle oil and "
                                     "defence purchases in rupees and roubles, officials said.")
    page.fill("input[name=tags]", "india, russia, oil")
    page.fill("input[name=section]", "Asia")
    page.click("form.ed-form button[type=submit]")
    page.wait_for_selector("text=It would get")
    assert len(page.query_selector_all(".ed-explain tbody tr")) >= 3
    _shot(page, "editor-draft.png")
    assert errors == []
