"""gunicorn's configuration for ``serve``, resolved by gunicorn itself, and the metrics directory.

(``tests/web/test_health.py`` runs ``serve`` for real with two workers.)
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from recommender.cli.serve import gunicorn_command
from tests.helpers.live_server import live_server, raw_request
from web import server

ROOT = Path(__file__).resolve().parents[2]


def _resolved_config(tmp_path: Path) -> dict[str, str]:
    """``gunicorn --print-config`` over the exact command ``serve`` runs (it loads the app too)."""
    argv = gunicorn_command("127.0.0.1:9", 3, 5, access_log=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RELATED_") and k != server.MULTIPROC_ENV}
    env.update(RELATED_DATA_DIR=str(tmp_path / "data"), TMPDIR=str(tmp_path),
               PYTHONPATH=str(ROOT))
    done = subprocess.run([*argv[:-1], "--print-config", argv[-1]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pairs = (line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def test_gunicorn_resolves_the_settings_serve_promises(tmp_path: Path) -> None:
    config = _resolved_config(tmp_path)
    assert config["worker_class"] == "web.gunicorn_worker.JsonErrorWorker" and config["preload_app"] == "True"
    assert config["bind"] == "['127.0.0.1:9']"
    assert (config["workers"], config["threads"]) == ("3", "5")  # the command line wins
    assert config["limit_request_line"] == "8190"
    assert config["control_socket_disable"] == "True"
    assert config["accesslog"] == "-" and config["errorlog"] == "-"
    assert config["access_log_format"].endswith("%({x-request-id}o)s")
    assert config["when_ready"] == "<_when_ready()>" and config["child_exit"] == "<_child_exit()>"
    if Path("/dev/shm").is_dir():
        assert config["worker_tmp_dir"] == "/dev/shm"
    # The private metrics directory the config made is gone once gunicorn exits.
    assert not list(tmp_path.glob("related-metrics-*"))


def test_an_operators_metrics_dir_is_kept_but_emptied_of_old_counters(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv(server.MULTIPROC_ENV, str(tmp_path))
    assert server.claim_metrics_dir() == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert os.environ[server.MULTIPROC_ENV] == str(tmp_path)


def test_errors_gunicorn_answers_itself_are_json(demo_dir: Path, tmp_path: Path) -> None:
    """An over-long or malformed request line never reaches Flask: the worker words it in the
    API's JSON error shape; a chunked body over the cap is a JSON 413 through gunicorn too."""
    key = "chunk-test-key-0123456789"
    with live_server({"RELATED_DATA_DIR": str(demo_dir), "RELATED_API_KEYS": key},
                     tmp_path) as (base, _):
        cases = [
            (b"GET /api/v1/related?url=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /api/v1/related HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400),
        ]
        for request, status in cases:
            code, headers, body = raw_request(base, request)
            assert code == status, body
            assert headers["content-type"] == "application/json"
            assert json.loads(body)["error"]["code"] == status
        payload = b"[" + b" " * (5 * 1024 * 1024) + b"]"
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                          for part in (payload[i:i + 65536] for i in range(0, len(payload), 65536)))
        code, headers, body = raw_request(base, (
            b"POST /api/v1/articles HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"))
        assert code == 413, body
        assert json.loads(body)["error"]["code"] == 413
