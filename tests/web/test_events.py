"""``POST /api/v1/events``: stored before the 204, privacy signals honoured, bad input 400."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from recommender.settings import Settings
from recommender.storage.engine import make_engine
from recommender.storage.feedback_tables import FeedbackEvent
from tests.helpers.demo import WIDGET_ORIGIN
from tests.helpers.feedback import BROWSER_UA, batch, click, impression, token
from web import create_app

PAGE, ITEMS = "demo-001", ["demo-002", "demo-003", "demo-004"]
HEADERS = {"User-Agent": BROWSER_UA, "Origin": WIDGET_ORIGIN}


def _stored(app: Flask) -> int:
    with app.extensions["related"].session_factory() as session:
        return session.scalar(select(func.count()).select_from(FeedbackEvent)) or 0


def _post(client: FlaskClient, body: bytes, content_type: str = "text/plain",
          **headers: str) -> object:
    return client.post("/api/v1/events", data=body, content_type=content_type,
                       headers={**HEADERS, **headers})


def test_a_beacon_is_stored_before_the_204(client: FlaskClient, app: Flask) -> None:
    view = token()
    response = _post(client, batch(impression(PAGE, ITEMS, view), click(PAGE, ITEMS[1], 2, view)))
    assert response.status_code == 204  # type: ignore[attr-defined]
    assert response.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN  # type: ignore[attr-defined]
    assert response.headers["Cache-Control"] == "no-store"  # type: ignore[attr-defined]
    assert _stored(app) == 5
    again = _post(client, batch(impression(PAGE, ITEMS, view)), "application/json")
    assert again.status_code == 204 and _stored(app) == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"},
                                    {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}])
def test_do_not_track_gpc_and_crawlers_store_nothing(client: FlaskClient, app: Flask,
                                                     header: dict[str, str]) -> None:
    response = _post(client, batch(impression(PAGE, ITEMS, token())), **header)
    assert response.status_code == 204  # type: ignore[attr-defined]
    assert _stored(app) == 0


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"x" * 17_000, "text/plain", "at most 16384"),
    (batch(*[impression(PAGE, ITEMS, token()) for _ in range(1000)]), "text/plain", "at most"),
    (batch(impression(PAGE, ["demo-002", "no-such-article"], token())), "text/plain",
     "unknown article: 'no-such-article'"),
    (batch({"type": "click", "page": PAGE, "token": token(), "item": "demo-002",
            "position": "first"}), "application/json", "events[0].position"),
    (b"not json", "text/plain", "not valid JSON"),
    (batch(impression(PAGE, ITEMS, token())), "application/x-www-form-urlencoded", "text/plain"),
])
def test_bad_batches_get_400_and_store_nothing(client: FlaskClient, app: Flask, body: bytes,
                                               content_type: str, message: str) -> None:
    response = _post(client, body, content_type)
    assert response.status_code == 400  # type: ignore[attr-defined]
    error = json.loads(response.data)["error"]  # type: ignore[attr-defined]
    assert message in error["message"]
    assert _stored(app) == 0


def test_other_origins_are_refused_and_preflight_answers(client: FlaskClient, app: Flask) -> None:
    refused = _post(client, batch(impression(PAGE, ITEMS, token())), Origin="https://evil.example")
    assert refused.status_code == 403 and _stored(app) == 0  # type: ignore[attr-defined]
    assert "Access-Control-Allow-Origin" not in refused.headers  # type: ignore[attr-defined]
    preflight = client.options("/api/v1/events", headers={
        "Origin": WIDGET_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN


@pytest.fixture
def limited(demo_settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(replace(demo_settings, events_rate_limit=10), {"TESTING": True})
    yield flask_app
    flask_app.extensions["related"].engine.dispose()


def test_one_client_is_rate_limited(limited: Flask) -> None:
    client = limited.test_client()
    for _ in range(2):  # 4 + 4 events of 10 a minute
        assert _post(client, batch(*[impression(PAGE, ITEMS, token())
                                     for _ in range(4)])).status_code == 204  # type: ignore[attr-defined]
    refused = _post(client, batch(*[impression(PAGE, ITEMS, token()) for _ in range(4)]))
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert refused.headers["Retry-After"] == "60"  # type: ignore[attr-defined]
    assert _stored(limited) == 8 * 4


def test_the_fragment_names_page_and_arm_but_tracks_nothing(client: FlaskClient,
                                                             app: Flask) -> None:
    url = client.get(f"/api/v1/articles/{PAGE}/related").get_json()["article"]["url"]
    html = client.get("/widget/related.html", query_string={"url": url}).data.decode()
    assert f'data-rr-page="{PAGE}"' in html and 'data-rr-arm="default"' in html
    assert 'data-rr-position="1"' in html
    # Without the script nothing reports: no pixel, no script, no redirecting link.
    assert "<img" not in html and "<script" not in html and "/api/v1/events" not in html
    assert _stored(app) == 0
    script = client.get("/widget/v1.js").data.decode()
    assert "sendBeacon" in script and "IntersectionObserver" in script
    assert "doNotTrack" in script and "globalPrivacyControl" in script


def test_an_acknowledged_batch_survives_kill_9(demo_dir: Path, tmp_path: Path) -> None:
    """A 204 means committed: kill -9 the whole server right after it, the rows are there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RELATED_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(RELATED_DATA_DIR=str(demo_dir), TMPDIR=str(tmp_path))
    server = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "2"], cwd=Path(__file__).resolve().parents[2], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("server did not start")
                time.sleep(0.2)
        view = token()
        request = urllib.request.Request(
            base + "/api/v1/events", method="POST",
            data=batch(impression(PAGE, ITEMS, view), click(PAGE, ITEMS[0], 1, view)),
            headers={"Content-Type": "text/plain", "User-Agent": BROWSER_UA})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # master and worker, no chance to flush anything
        server.wait(timeout=30)
    settings = Settings.from_env({"RELATED_DATA_DIR": str(demo_dir)})
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FeedbackEvent)).scalar() == 5
    engine.dispose()


def test_an_experiments_arms_are_served_by_page(app: Flask, client: FlaskClient) -> None:
    from recommender.feedback import experiments
    from recommender.jobs.build import full_build
    from recommender.live.recommender import Recommender
    from recommender.ranking.policy import RankingPolicy
    from recommender.ranking.saved import save_policy
    from tests.helpers.fakes import FakeEncoder

    resources = app.extensions["related"]
    with resources.session_factory() as session:
        a = save_policy(session, RankingPolicy(), actor="ed").id
        b = save_policy(session, replace(RankingPolicy(), mmr_lambda=0.6), actor="ed").id
        experiments.start(session, name="by-page", policy_a=a, policy_b=b, split=0.5, actor="ed")
    full_build(Recommender(resources.settings, resources.session_factory, encoder=FakeEncoder()))
    seen = set()
    for n in range(1, 13):
        page = f"demo-{n:03d}"
        related = client.get(f"/api/v1/articles/{page}/related")
        if related.status_code != 200 or not related.get_json()["items"]:
            continue
        url = related.get_json()["article"]["url"]
        arm = experiments.assign("by-page", 0.5, page)
        for _ in range(2):  # the same page always gets the same arm
            html = client.get("/widget/related.html", query_string={"url": url}).data.decode()
            assert f'data-rr-arm="{arm}"' in html
        seen.add(arm)
    assert seen == {"by-page-a", "by-page-b"}
