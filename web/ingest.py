"""The CMS's publish webhook: ``POST /api/v1/articles`` and ``DELETE /api/v1/articles/<id>``.

Thin on purpose: authenticate (``Authorization: Bearer <key>``), read a bounded JSON body, and
hand it to ``recommender.live.publishing``, which validates everything, stores, refreshes every list
the articles enter or leave and commits before this view answers. Processing is synchronous, so
when the response arrives the change is already on the site. The encoder is loaded by the first
publish in each worker (about 10 s with the bundled model); the readers' path never loads it.

This is its own blueprint, not ``api``, so ``web.caching`` grants it no CORS: browsers on other
origins can never call it with a reader's credentials or a leaked key.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.routing import PathConverter

from recommender.accounts.apikeys import verify_key
from recommender.live import publishing
from web import db, params
from web.bodies import read_body
from web.errors import ApiError

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")
# A batch of 500 long articles fits; the app-wide cap (readers' GETs) is far smaller.
MAX_BODY_BYTES = 5 * 1024 * 1024
REALM = 'Bearer realm="related-reading"'


def _authenticate() -> str:
    """The name of the key presented, or a 401 saying how to authenticate."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "authentication required: send 'Authorization: Bearer <API key>'",
                       headers={"WWW-Authenticate": REALM})
    resources = db.resources()
    session = db.get_session()
    name = verify_key(session, token, resources.settings.api_keys)
    if name is None:
        session.rollback()
        raise ApiError(401, "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    if session.dirty:
        session.commit()  # the key's last_used, in its own short transaction
    return name


def _json_body() -> Any:
    if not request.is_json:
        raise ApiError(415, "send the articles as JSON (Content-Type: application/json)")
    raw = read_body(MAX_BODY_BYTES)  # 413 beyond MAX_BODY_BYTES, before anything is parsed
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, absurd nesting or numbers
        raise ApiError(400, f"the body is not valid JSON: {str(exc)[:200]}") from None


def _respond(items: list[publishing.ItemResult], lists_updated: int, status: int) -> Response:
    response = jsonify(items=[i.as_dict() for i in items], lists_updated=lists_updated)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/articles")
def publish_articles() -> Response:
    """Add or update articles (one object, a list, or ``{"articles": [...]}``): all or nothing."""
    actor = f"api-key:{_authenticate()}"
    payload = _json_body()
    session = db.get_session()
    try:
        report = publishing.publish(session, db.resources().recommender, payload, actor)
    except publishing.PublishRejected as exc:
        raise ApiError(409 if exc.conflict else 422, exc.message,
                       problems=[p.as_dict() for p in exc.problems]) from None
    return _respond(report.items, report.lists_updated, 201 if report.added else 200)


class WithdrawableId(PathConverter):
    """An id in ``DELETE /articles/<id>``: any path but one ending in ``/related``, which is the
    readers' list of another article (``GET /articles/<id>/related``). Without this, DELETE
    matched that path too, and OPTIONS advertised a method the resource does not have; an id
    that itself ends in ``/related`` is withdrawn with ``"status": "unpublished"`` instead."""

    regex = r"(?:(?!/related$)[^\x00])+"


@bp.delete("/articles/<withdrawable_id:article_id>")
def withdraw_article(article_id: str) -> Response:
    """Unpublish an article: gone from every list before this answers. Repeating is harmless."""
    actor = f"api-key:{_authenticate()}"
    external_id = params.article_id(article_id)
    try:
        result = publishing.withdraw(db.get_session(), db.resources().recommender, external_id,
                                     actor)
    except publishing.UnknownArticle as exc:
        raise ApiError(404, str(exc)) from None
    return _respond([result], result.lists_updated, 200)
