"""Readers on replicas for tests: a private PostgreSQL database, and real gunicorn servers over it.

Each server is what ``related-reading serve`` runs (its gunicorn command and configuration), with
an app whose Recommender has the fake encoder the demo was built with, so a publish through the
webhook embeds without loading the sentence model. Servers share one database and one data
directory (the build directory), as replicas on several hosts would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
FAKE_ENCODER_APP = "tests.helpers.replicas:fake_encoder_app()"


def fake_encoder_app() -> Flask:
    """``web.create_app()`` whose Recommender embeds with the tests' fake encoder."""
    from recommender.live.recommender import Recommender
    from tests.helpers.fakes import FakeEncoder
    from web import create_app

    app = create_app()
    resources = app.extensions["related"]
    app.extensions["related"] = replace(resources, recommender=Recommender(
        resources.settings, resources.session_factory, encoder=FakeEncoder()))
    return app


@contextmanager
def private_database(admin_url: str, prefix: str = "replicas") -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``admin_url``, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replica:
    """One gunicorn server on 127.0.0.1 (a port of its own), started and stopped by the test."""

    def __init__(self, env: dict[str, str], workdir: Path, *, workers: int = 1,
                 threads: int = 2, app: str = FAKE_ENCODER_APP) -> None:
        from recommender.cli.serve import gunicorn_command

        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "server.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        child_env = {k: v for k, v in os.environ.items()
                     if not k.startswith("RELATED_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        child_env.update(env, PYTHONPATH=str(ROOT), TMPDIR=str(workdir))
        command = gunicorn_command(f"127.0.0.1:{self.port}", workers, threads, app=app)
        self.proc = subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=self._log,
                                     stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={**(headers or {}),
                                                  **({"Content-Type": "application/json"}
                                                     if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def related(self, article_id: str) -> tuple[int, str, list[str], dict[str, Any]]:
        """Status, ETag, the item ids and the body (without its per-request id) of one list."""
        status, headers, raw = self.request("GET", f"/api/v1/articles/{article_id}/related")
        body = json.loads(raw)
        body.pop("request_id", None)
        ids = [item["id"] for item in body.get("items", [])]
        return status, headers.get("ETag", ""), ids, body

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def wait_for(check: Callable[[], bool], timeout: float, every: float = 0.01) -> float | None:
    """Seconds until ``check()`` first holds (called at once, then every ``every`` s), or None."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        time.sleep(every)
