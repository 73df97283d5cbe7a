"""Liveness, readiness, Prometheus metrics, and ``related-reading serve`` with several workers."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web import create_app

ROOT = Path(__file__).resolve().parents[2]


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_reports_the_build_and_its_age(app: Flask, client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["checks"]["database"] == "ok"
    build = body["checks"]["build"]
    assert build["id"] == app.extensions["related"].recommender.store.current_id()
    assert build["articles"] == 86
    assert 0 <= build["age_seconds"] < 24 * 3600


def test_readyz_503_without_a_build(demo_settings: Any, demo_dir: Path) -> None:
    shutil.rmtree(demo_dir / "index")
    app = create_app(demo_settings)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "not ready"
    assert "reindex" in response.get_json()["checks"]["build"]
    app.extensions["related"].engine.dispose()


def _break_meta(meta: Path, how: str) -> None:
    if how == "garbage":
        meta.write_bytes(b"\x00\xff not json")
    elif how == "truncated":
        meta.write_text(meta.read_text()[:20])
    elif how == "not an object":
        meta.write_text("[1, 2, 3]")
    elif how == "missing":
        meta.unlink()
    else:  # unreadable: a directory where the file should be (root reads any file)
        meta.unlink()
        meta.mkdir()


@pytest.mark.parametrize("how", ["garbage", "truncated", "not an object", "missing",
                                 "unreadable"])
def test_readyz_503_says_the_serving_build_is_unreadable(demo_settings: Any, demo_dir: Path,
                                                         how: str) -> None:
    app = create_app(demo_settings)
    store = app.extensions["related"].recommender.store
    build_id = store.current_id()
    _break_meta(store.builds / build_id / "meta.json", how)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and body["checks"]["database"] == "ok"
    assert body["checks"]["build"].startswith(f"build {build_id} unreadable: meta.json")
    assert str(demo_dir) not in body["checks"]["build"]  # no server paths in the answer
    # Metrics still answer, without a build age to report.
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "\nrelated_index_build_age_seconds " not in metrics.get_data(as_text=True)
    app.extensions["related"].engine.dispose()


def test_readyz_503_when_the_database_is_unreachable(demo_settings: Any) -> None:
    app = create_app(replace(demo_settings,
                             database_url="postgresql+psycopg://nobody@127.0.0.1:9/none"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("unreachable")
    api = app.test_client().get("/api/v1/articles/demo-001/related")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == 503
    app.extensions["related"].engine.dispose()


def _value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_latency_build_and_articles(client: FlaskClient) -> None:
    for _ in range(3):
        client.get("/api/v1/articles/demo-001/related")
    client.get("/api/v1/articles/nope/related")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert _value(text, "related_http_requests_total", endpoint="api.related_by_id",
                  status="200") == 3
    assert _value(text, "related_http_requests_total", endpoint="api.related_by_id",
                  status="404") == 1
    assert _value(text, "related_http_request_duration_seconds_count",
                  endpoint="api.related_by_id", status="200") == 3
    assert 'le="0.005"' in text
    assert 0 <= _value(text, "related_index_build_age_seconds") < 24 * 3600
    assert _value(text, "related_articles", status="published") == 84
    assert _value(text, "related_articles", status="draft") == 1
    assert _value(text, "related_response_memo_total", result="hit") == 2
    assert _value(text, "related_response_memo_total", result="miss") == 2  # + the 404


# -- gunicorn with two workers ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_runs_gunicorn_workers_and_sums_their_metrics(demo_dir: Path,
                                                            tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RELATED_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(RELATED_DATA_DIR=str(demo_dir), TMPDIR=str(tmp_path))
    server = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "2", "--access-log"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("server did not start")
            time.sleep(0.2)
        for _ in range(40):  # several connections, so both workers answer some
            assert _get(base + "/api/v1/articles/demo-001/related")[0] == 200
        assert _get(base + "/readyz")[0] == 200
        assert list(tmp_path.glob("related-metrics-*"))  # prometheus-client's multiprocess dir
        status, text = _get(base + "/metrics")
        assert status == 200
        assert _value(text, "related_http_requests_total", endpoint="api.related_by_id",
                      status="200") == 40
        assert _value(text, "related_articles", status="published") == 84
        traced = urllib.request.Request(base + "/api/v1/articles/demo-002/related",
                                        headers={"X-Request-ID": "trace-me-0001"})
        with urllib.request.urlopen(traced, timeout=10) as response:
            assert response.headers["X-Request-ID"] == "trace-me-0001"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    pids = set(re.findall(r"Booting worker with pid: (\d+)", output))
    assert len(pids) == 2, output
    assert "Using worker: web.gunicorn_worker.JsonErrorWorker" in output
    # The access log names the id the API returned; the metrics directory is removed.
    assert re.search(r'"GET /api/v1/articles/demo-002/related HTTP/1.1" 200 .* trace-me-0001$',
                     output, re.M), output
    assert not list(tmp_path.glob("related-metrics-*"))
