"""The request id the API returns is on the error log lines written while the request ran.

(The id's choice and echo are in tests/web/test_api.py; the access log line in
tests/web/test_health.py, which runs ``serve`` with ``--access-log``.)
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from recommender.settings import Settings
from web import create_app, request_ids


@pytest.fixture
def failing_app(demo_settings: Settings) -> Iterator[Flask]:
    """The app plus two routes: one that logs from the library, one with a bug (a 500)."""
    app = create_app(demo_settings)

    def warns() -> str:
        logging.getLogger("recommender.somewhere").warning("the library noticed something")
        return "ok"

    def boom() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/test-warns", "test_warns", warns)
    app.add_url_rule("/api/v1/test-boom", "test_boom", boom)
    yield app
    app.extensions["related"].engine.dispose()


def test_an_unhandled_error_is_logged_with_the_request_id(failing_app: Flask,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    errors = io.StringIO()  # the server's error log (wsgi.errors)
    with caplog.at_level(logging.ERROR, logger="web"):
        response = failing_app.test_client().get(
            "/api/v1/test-boom", headers={"X-Request-ID": "trace-me-0002"},
            errors_stream=errors)
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "trace-me-0002"
    [record] = [r for r in caplog.records if r.name == "web.errors"]
    assert record.request_id == "trace-me-0002"  # type: ignore[attr-defined]
    log = errors.getvalue()
    assert re.search(r"^\[[^]]+\] \[\d+\] \[ERROR\] \[request trace-me-0002\] web\.errors: "
                     r"unhandled error on GET /api/v1/test-boom$", log, re.M), log
    assert "RuntimeError: a bug" in log  # and the traceback follows


def test_a_fresh_id_is_logged_as_returned(failing_app: Flask) -> None:
    errors = io.StringIO()
    response = failing_app.test_client().get("/api/v1/test-boom",
                                             errors_stream=errors)
    assert f"[request {response.headers['X-Request-ID']}]" in errors.getvalue()


def test_library_records_during_a_request_carry_its_id(failing_app: Flask) -> None:
    errors = io.StringIO()
    response = failing_app.test_client().get("/api/v1/test-warns",
                                             errors_stream=errors)
    assert response.status_code == 200
    line = f"[WARNING] [request {response.headers['X-Request-ID']}] recommender.somewhere: " \
           "the library noticed something"
    assert line in errors.getvalue()


def test_records_outside_a_request_say_so(failing_app: Flask,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("web.somewhere").warning("at start-up")
    assert "[WARNING] [request -] web.somewhere: at start-up" in capsys.readouterr().err


def test_one_handler_however_many_apps(demo_settings: Settings) -> None:
    for _ in range(2):
        create_app(demo_settings).extensions["related"].engine.dispose()
    for name in request_ids.LOGGERS:
        handlers = logging.getLogger(name).handlers
        assert handlers.count(request_ids.ERROR_LOG_HANDLER) == 1
