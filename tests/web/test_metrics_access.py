"""``/metrics`` can be restricted (issue #17, item 14): a bearer token, client networks, or both.
Unset, it stays open as before, so existing scrapers keep working until an operator opts in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from flask import Flask

from recommender.settings import Settings
from web import create_app

TOKEN = "metrics-token-0123456789"
AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(demo_settings: Settings) -> Iterator[AppFactory]:
    made: list[Flask] = []

    def factory(**changes: object) -> Flask:
        app = create_app(replace(demo_settings, **changes), {"TESTING": True})  # type: ignore[arg-type]
        made.append(app)
        return app

    yield factory
    for app in made:
        app.extensions["related"].engine.dispose()


def _scrape(app: Flask, address: str = "127.0.0.1", token: str | None = None,
            scheme: str = "Bearer", forwarded: str | None = None) -> int:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    response = app.test_client().get("/metrics", headers=headers,
                                     environ_base={"REMOTE_ADDR": address})
    if response.status_code == 200:
        assert b"related_articles" in response.data
    return response.status_code


def test_open_when_nothing_is_set(make_app: AppFactory) -> None:
    assert _scrape(make_app(), "203.0.113.9") == 200


def test_a_token_is_required_when_set(make_app: AppFactory) -> None:
    app = make_app(metrics_token=TOKEN)
    response = app.test_client().get("/metrics")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"related_articles" not in response.data
    assert _scrape(app, token="wrong") == 401
    assert _scrape(app, token=TOKEN, scheme="Basic") == 401
    assert _scrape(app, token=TOKEN + "x") == 401
    assert _scrape(app, token=TOKEN) == 200
    assert _scrape(app, token=TOKEN, scheme="bearer") == 200


def test_only_the_allowed_networks_may_scrape(make_app: AppFactory) -> None:
    app = make_app(metrics_networks=("10.0.0.0/8", "::1/128"))
    assert _scrape(app, "10.20.30.40") == 200
    assert _scrape(app, "::1") == 200
    assert _scrape(app, "::ffff:10.0.0.5") == 200
    for outside in ("192.168.1.1", "127.0.0.1", "2001:db8::1", "not-an-address"):
        assert _scrape(app, outside) == 403, outside


def test_with_both_both_must_pass(make_app: AppFactory) -> None:
    app = make_app(metrics_token=TOKEN, metrics_networks=("10.0.0.0/8",))
    assert _scrape(app, "10.0.0.1", TOKEN) == 200
    assert _scrape(app, "10.0.0.1") == 401
    assert _scrape(app, "192.168.0.1", TOKEN) == 403


def test_behind_a_trusted_proxy_the_forwarded_address_counts(make_app: AppFactory) -> None:
    app = make_app(metrics_networks=("10.0.0.0/8",), trusted_proxies=1)
    assert _scrape(app, "127.0.0.1", forwarded="10.1.1.1") == 200
    assert _scrape(app, "10.9.9.9", forwarded="192.168.1.1") == 403
