"""``schemathesis run --checks all`` against a live server: the OpenAPI document describes what
the server does (every check, none excluded), on SQLite and PostgreSQL, with and without an API
key (without one, the write endpoints must answer their documented 401).

The app is served from this process (``tests/helpers/live_server.serve_in_thread``) so that it
can be given the fake encoder the demo was built with: the publish webhook and the preview embed
what schemathesis sends without loading the sentence model. The command line is schemathesis'
own, as an operator would run it; its report is shown when it fails.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from recommender.live.recommender import Recommender
from recommender.settings import Settings
from tests.helpers.demo import build_demo
from tests.helpers.fakes import FakeEncoder
from tests.helpers.live_server import serve_in_thread
from web import create_app

KEY = "schemathesis-key-0123456789abcdef"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Enough for every phase to reach every operation; fixed seed, so a CI failure reproduces.
EXAMPLES, SEED = "10", "17"


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[str]:
    """The demo magazine served on a socket (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / "data"),
                                  "RELATED_DATABASE_URL": db_url, "RELATED_API_KEYS": KEY})
    build_demo(settings)
    app: Flask = create_app(settings, {"TESTING": True})
    resources = app.extensions["related"]
    app.extensions["related"] = replace(resources, recommender=Recommender(
        resources.settings, resources.session_factory, encoder=FakeEncoder()))
    with serve_in_thread(app) as base:
        yield base
    resources.engine.dispose()


@pytest.mark.parametrize("with_key", [False, True], ids=["anonymous", "api-key"])
def test_schemathesis_run_checks_all_passes(live: str, with_key: bool, tmp_path: Path) -> None:
    args = [str(SCHEMATHESIS), "run", f"{live}/api/v1/openapi.json", "--checks", "all",
            "--max-examples", EXAMPLES, "--seed", SEED, "--workers", "1",
            "--request-timeout", "60"]
    if with_key:
        args += ["--header", f"Authorization: Bearer {KEY}"]
    # POST /api/v1/events answers 400 for an article the catalogue does not know (#16: unknown
    # articles are bad input); no schema can know the catalogue, so for that one operation a 400
    # also counts as accepting schema-valid data. Every other check and operation is as strict.
    (tmp_path / "schemathesis.toml").write_text(
        '[[operations]]\ninclude-path = "/api/v1/events"\n'
        'checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401, 403, 404, 409, 429]\n')
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = done.stdout[-20000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert "No issues found" in done.stdout or " passed" in done.stdout, report
