"""The editors' ranking tables fit a 1280-pixel window (issue #17, item 10): the actions column
(promote, block) is inside the viewport and not clipped by the table's scroll box, so an editor
on a laptop sees every action without scrolling sideways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recommender.settings import Settings
from tests.helpers.browser import CHROMIUM, serving, watch_console
from tests.helpers.editing import EDITOR, PASSWORD, add_editor, article_id, use_fake_encoder
from web import create_app

WIDTH = 1280

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")

# For every actions cell: its box, and the box of the scroll container that could clip it.
MEASURE = """() => [...document.querySelectorAll(
    '.ed-explain tbody td.ed-actions, .ed-explain thead th:last-child')]
  .map(cell => {
    const box = cell.getBoundingClientRect();
    const scroller = cell.closest('.ed-scroll').getBoundingClientRect();
    return {left: box.left, right: box.right, width: box.width,
            clipLeft: scroller.left, clipRight: scroller.right};
  })"""


@pytest.fixture
def served(demo_settings: Settings) -> Iterator[tuple[str, Any]]:
    app = create_app(demo_settings)
    use_fake_encoder(app)
    add_editor(app)
    with serving(app) as origin:
        yield origin, app


@pytest.mark.parametrize("k", [3, 12])
def test_the_actions_column_fits_a_1280_pixel_window(served: tuple[str, Any], browser: Any,
                                                     k: int) -> None:
    origin, app = served
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    errors = watch_console(page)
    page.goto(f"{origin}/editor/sign-in")
    page.fill("input[name=name]", EDITOR)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/editor/")
    page.goto(f"{origin}/editor/articles/{article_id(app, 'demo-001')}?k={k}")
    cells = page.evaluate(MEASURE)
    assert len(cells) >= k + 2, "no actions column measured"  # the list, both headers
    for cell in cells:
        assert cell["width"] > 0
        assert cell["left"] >= 0 and cell["right"] <= WIDTH, cell
        assert cell["clipLeft"] <= cell["left"] and cell["right"] <= cell["clipRight"] + 0.5, cell
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= WIDTH
    assert errors == []
