"""Editor sessions and the sign-in limit through the app (issue #17, items 8 and 9): the cookie
lives 12 hours, not Flask's 31 days; signing out ends the session on the server, so a copied cookie
stops working; a password change or disabling the account ends all its sessions, also once it is
enabled again; parallel wrong passwords get no more checks than the limit allows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recommender.accounts import users
from recommender.settings import Settings
from tests.helpers.editing import EDITOR, add_editor, csrf, post, session_of, sign_in
from web import create_app

COOKIE = "session"


@pytest.fixture
def editor_app(demo_settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(demo_settings, {"TESTING": True})
    add_editor(flask_app)
    yield flask_app
    flask_app.extensions["related"].engine.dispose()


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client).status_code == 303
    assert client.get("/editor/").status_code == 200
    return client


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def _is_signed_out(client: FlaskClient) -> bool:
    response = client.get("/editor/")
    return response.status_code == 303 and "/editor/sign-in" in response.headers["Location"]


def test_the_session_cookie_lasts_twelve_hours(editor_app: Flask) -> None:
    client = editor_app.test_client()
    response = sign_in(client)
    assert editor_app.permanent_session_lifetime == timedelta(hours=12)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))
    expires = next(p.split("=", 1)[1] for p in cookie.split("; ") if p.startswith("Expires="))
    left = parsedate_to_datetime(expires) - datetime.now(UTC)
    assert timedelta(hours=11, minutes=58) < left <= timedelta(hours=12)


def test_signing_out_ends_the_session_for_a_copied_cookie_too(editor_app: Flask) -> None:
    client = _signed_in(editor_app)
    copy = _copy(editor_app, client)
    assert copy.get("/editor/").status_code == 200
    assert post(client, "/editor/sign-out").status_code == 303
    assert _is_signed_out(client)
    assert _is_signed_out(copy)


def test_a_password_change_ends_every_session(editor_app: Flask) -> None:
    first, second = _signed_in(editor_app), _signed_in(editor_app)
    with session_of(editor_app) as session:
        users.set_password(session, EDITOR, "a brand new password")
        session.commit()
    assert _is_signed_out(first) and _is_signed_out(second)
    assert sign_in(first, password="a brand new password").status_code == 303
    assert first.get("/editor/").status_code == 200


def test_a_disabled_account_stays_signed_out_after_it_is_enabled(editor_app: Flask) -> None:
    client = _signed_in(editor_app)
    copy = _copy(editor_app, client)
    with session_of(editor_app) as session:
        users.set_disabled(session, EDITOR, True)
        session.commit()
    assert _is_signed_out(client)
    with session_of(editor_app) as session:
        users.set_disabled(session, EDITOR, False)
        session.commit()
    assert _is_signed_out(copy)


def test_forty_simultaneous_wrong_sign_ins_get_five_checks(editor_app: Flask) -> None:
    """Issue #17 item 9 through the form: 401 means the password was checked, 429 that the
    attempt was refused before it; the limit is 5 per name and address however they arrive."""
    clients = [editor_app.test_client() for _ in range(40)]
    tokens = [csrf(client) for client in clients]
    start = threading.Barrier(len(clients))

    def attempt(index: int) -> int:
        start.wait()
        return clients[index].post("/editor/sign-in", data={
            "name": EDITOR, "password": "not the password", "csrf_token": tokens[index]}).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(attempt, range(len(clients))))
    assert statuses.count(401) == users.MAX_FAILURES
    assert statuses.count(429) == len(clients) - users.MAX_FAILURES
