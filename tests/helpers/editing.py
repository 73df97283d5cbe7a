"""Helpers shared by the editor tests: an app whose Recommender ranks with the fake encoder, an
editor account, and a signed-in test client that knows its CSRF token."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recommender.accounts import users
from recommender.storage.schema import Article
from tests.helpers.fakes import FakeEncoder

EDITOR, PASSWORD = "ada", "correct horse battery"


def use_fake_encoder(app: Flask) -> None:
    """The demo builds were made with FakeEncoder: live ranking must use the same one."""
    app.extensions["related"].recommender._encoder = FakeEncoder()


def add_editor(app: Flask, name: str = EDITOR, password: str = PASSWORD) -> None:
    with app.extensions["related"].session_factory() as session:
        users.create_user(session, name, password)
        session.commit()


def csrf(client: FlaskClient) -> str:
    with client.session_transaction() as sess:
        token = sess.get("csrf")
    if not token:
        page = client.get("/editor/sign-in")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        assert match, "no CSRF token on the sign-in page"
        token = match.group(1)
    return str(token)


def sign_in(client: FlaskClient, name: str = EDITOR, password: str = PASSWORD) -> TestResponse:
    return client.post("/editor/sign-in", data={"name": name, "password": password,
                                                "csrf_token": csrf(client)})


def post(client: FlaskClient, path: str, **data: str) -> TestResponse:
    """A form POST with this session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf(client)})


def session_of(app: Flask) -> Session:
    return app.extensions["related"].session_factory()  # type: ignore[no-any-return]


def article_id(app: Flask, external_id: str) -> int:
    with session_of(app) as session:
        return int(session.scalars(select(Article.id).where(
            Article.external_id == external_id)).one())
