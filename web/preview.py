"""``POST /api/v1/preview``: the list a draft would get once published, for CMS integration.

Authenticated like the publish webhook (``Authorization: Bearer <API key>``), or by a signed-in
editor's session plus its CSRF token in ``X-CSRF-Token`` (the cookie alone never suffices, so a
page on another site cannot preview through an editor's browser). Nothing is stored. Its own
blueprint, so ``web.caching`` grants it no CORS.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from recommender.accounts.apikeys import verify_key
from recommender.live.drafts import DraftError, parse_draft
from recommender.live.recommender import Explained
from web import db
from web.bodies import read_body
from web.editor.guard import csrf_ok, current_editor
from web.editor.present import present
from web.errors import ApiError

bp = Blueprint("preview", __name__, url_prefix="/api/v1")
MAX_BODY_BYTES = 2 * 1024 * 1024
REALM = 'Bearer realm="related-reading"'
DEFAULT_K = 3


def _authenticate() -> str:
    """Who is asking: an API key's name or ``editor:<name>``; else a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    session = db.get_session()
    if scheme.lower() == "bearer" and token:
        name = verify_key(session, token, db.resources().settings.api_keys)
        if name is None:
            session.rollback()
            raise ApiError(401, "the API key is unknown or revoked",
                           headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
        if session.dirty:
            session.commit()  # the key's last_used
        return name
    editor = current_editor()
    if editor is not None and csrf_ok(request.headers.get("X-CSRF-Token")):
        return f"editor:{editor}"
    raise ApiError(401, "authentication required: send 'Authorization: Bearer <API key>' (or "
                        "an editor's session cookie with its X-CSRF-Token)",
                   headers={"WWW-Authenticate": REALM})


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415, "send the draft as JSON (Content-Type: application/json)")
    raw = read_body(MAX_BODY_BYTES)  # 413 beyond it, announced or chunked
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise ApiError(422, "the body must be a JSON object with the draft's fields")
    return data


def _k(data: dict[str, Any]) -> int:
    maximum = db.resources().settings.related_k
    k = data.get("k", DEFAULT_K)
    if isinstance(k, float) and k.is_integer():
        k = int(k)  # JSON's 3.0 is the integer 3 (as JSON Schema counts it)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= maximum:
        raise ApiError(422, f"k must be an integer from 1 to {maximum}", "k")
    return k


def _item(position: int, item: Explained, refs: dict[int, Any]) -> dict[str, Any]:
    article = refs.get(item.article_id)
    return {"position": position, "id": article.external_id if article else "",
            "url": (article.canonical_url or article.url) if article else "",
            "title": article.title if article else "",
            "score": item.score, "signals": item.signals, "pinned": item.pinned,
            "fallback": item.fallback, "note": item.note}


@bp.post("/preview")
def preview() -> Response:
    """The related items a draft would get, each with the signals behind its place."""
    _authenticate()
    data = _body()
    k = _k(data)
    try:
        draft = parse_draft({key: value for key, value in data.items() if key != "k"})
        session = db.get_session()
        explanation = db.resources().recommender.preview(session, draft, k)
    except DraftError as exc:
        raise ApiError(422, exc.message, exc.field) from None
    except ValueError as exc:  # e.g. nothing but markup once HTML is stripped
        raise ApiError(422, str(exc), "body") from None
    shown = present(session, explanation)
    refs = {r.article_id: r.article for r in shown.items + shown.below_cut}
    response = jsonify(
        items=[_item(i, e, refs) for i, e in enumerate(explanation.items, start=1)],
        below_cut=[_item(i, e, refs) for i, e in enumerate(explanation.below_cut, start=k + 1)],
        build_id=explanation.build_id)
    response.headers["Cache-Control"] = "no-store"
    return response
