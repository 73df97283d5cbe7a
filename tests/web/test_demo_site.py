"""The demo magazine is mounted only when RELATED_DEMO_SITE enables it (issue #17, item 13): its
pages serve the full text of every live article, which a production site must not expose."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recommender.settings import Settings
from tests.helpers.editing import add_editor, article_id, sign_in
from web import create_app

DEMO_PAGES = ("/", "/demo/articles/demo-001")


def test_the_demo_site_is_off_by_default(demo_settings: Settings) -> None:
    assert Settings.from_env({}).demo_site is False
    app = create_app(replace(demo_settings, demo_site=False), {"TESTING": True})
    client = app.test_client()
    for path in DEMO_PAGES:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Delhi Summit" not in response.get_data(as_text=True)
    assert not [r for r in app.url_map.iter_rules() if r.endpoint.startswith("demo.")]
    assert client.get("/api/v1/articles/demo-001/related").status_code == 200  # readers unaffected
    app.extensions["related"].engine.dispose()


@pytest.mark.parametrize("value", ["1", "true", "on"])
def test_the_setting_mounts_it(demo_settings: Settings, value: str) -> None:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(demo_settings.data_dir),
                                  "RELATED_DEMO_SITE": value})
    assert settings.demo_site is True
    app = create_app(settings, {"TESTING": True})
    client = app.test_client()
    for path in DEMO_PAGES:
        assert client.get(path).status_code == 200, path
    app.extensions["related"].engine.dispose()


def test_pages_that_link_the_demo_render_without_it(demo_settings: Settings) -> None:
    """The error page and the editor's article page link the demo only when it is mounted."""
    app = create_app(replace(demo_settings, demo_site=False), {"TESTING": True})
    add_editor(app)
    client = app.test_client()
    assert "Meridian" not in client.get("/no/such/page").get_data(as_text=True)
    assert sign_in(client).status_code == 303
    page = client.get(f"/editor/articles/{article_id(app, 'demo-001')}")
    assert page.status_code == 200 and "/demo/articles/" not in page.get_data(as_text=True)
    app.extensions["related"].engine.dispose()
