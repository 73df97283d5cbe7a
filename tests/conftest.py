"""Shared fixtures: databases on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set).

Each PostgreSQL test gets its own schema (via search_path), so tests stay isolated without
creating databases, and the suite passes on a machine without PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from recommender.embedding.encoder import SentenceTransformerEncoder
from recommender.embedding.onnx_encoder import OnnxEncoder
from recommender.settings import Settings
from recommender.storage import migrations
from recommender.storage.engine import make_engine, make_session_factory
from tests.helpers.demo import WIDGET_ORIGIN, build_demo
from web import create_app

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def migrated_url(db_url: str) -> str:
    migrations.upgrade(db_url)
    return db_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    eng = make_engine(migrated_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as sess:
        yield sess


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'lite.db'}"
    migrations.upgrade(url)
    return url


@pytest.fixture
def sqlite_session(sqlite_url: str) -> Iterator[Session]:
    eng = make_engine(sqlite_url)
    with make_session_factory(eng)() as sess:
        yield sess
    eng.dispose()


# -- the real model (tests marked ``model``) ------------------------------------------------------

@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real all-MiniLM-L6-v2, loaded once per session for every test marked ``model``
    (tests/test_end_to_end.py, tests/embedding/test_encoder.py): loading it costs ~10 s."""
    return SentenceTransformerEncoder(threads=2)


@pytest.fixture(scope="session")
def onnx_encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEncoder:
    """The same model exported to int8 ONNX once per session into a temporary cache (~30 s):
    tests/embedding/test_onnx_*.py and test_backends.py share it (#14)."""
    onnx = OnnxEncoder(cache_dir=tmp_path_factory.mktemp("encoders"), threads=2)
    onnx.encode(["warm up: export, verify and load once"])
    return onnx


# -- the web app on the demo magazine (tests/test_api.py, test_widget.py, test_health.py, ...) -----

@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir (SQLite + index builds) with the demo magazine built once per session."""
    root = tmp_path_factory.mktemp("demo-template")
    build_demo(Settings.from_env({"RELATED_DATA_DIR": str(root)}))
    return root


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the built demo data dir: tests may change it freely."""
    target = tmp_path / "demo"
    shutil.copytree(demo_template, target)
    return target


@pytest.fixture
def demo_settings(demo_dir: Path) -> Settings:
    return Settings.from_env({"RELATED_DATA_DIR": str(demo_dir),
                              "RELATED_WIDGET_ORIGINS": WIDGET_ORIGIN,
                              "RELATED_DEMO_SITE": "1"})  # the magazine's pages embed the widget


@pytest.fixture
def app(demo_settings: Settings) -> Iterator[Flask]:
    """The web app over a private copy of the demo magazine (SQLite)."""
    flask_app = create_app(demo_settings, {"TESTING": True})
    yield flask_app
    flask_app.extensions["related"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def any_db_app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The web app over the demo magazine on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / "data"),
                                  "RELATED_DATABASE_URL": db_url,
                                  "RELATED_WIDGET_ORIGINS": WIDGET_ORIGIN})
    build_demo(settings)
    flask_app = create_app(settings, {"TESTING": True})
    yield flask_app
    flask_app.extensions["related"].engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    from playwright import sync_api

    from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (``FAIL_ON_SKIP=1``, set by ``.ci/run``) a skipped test fails the run: every
    real component (PostgreSQL, WordPress, Ray, Chromium, the model) is installed there, so a
    skip means a test that silently stopped existing. ``-ra`` prints each skip's reason."""
    if os.environ.get("FAIL_ON_SKIP") != "1" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped:
        reporter.write_line(f"FAIL_ON_SKIP: {len(skipped)} test(s) skipped in CI; "
                            "see the reasons above", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
