"""The public JSON API, versioned under ``/api/v1``: an article's related reading, and the spec.

The body is built once per list and memoised without its request id, which is spliced in per
response (it is plain ``[A-Za-z0-9._-]``, so no escaping is needed); ETags ignore it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify

from recommender.readers import RelatedList, Teaser
from web import db, lookup, params, request_ids
from web.caching import cached_response
from web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
JSON = "application/json"
_TAIL = b'"}'


def _iso(teaser: Teaser) -> str | None:
    moment = teaser.published_at
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _item(teaser: Teaser) -> dict[str, Any]:
    return {"id": teaser.id, "url": teaser.url, "title": teaser.title, "dek": teaser.dek,
            "image": teaser.image, "section": teaser.section, "authors": list(teaser.authors),
            "published_at": _iso(teaser), "read_minutes": teaser.read_minutes,
            "read_label": teaser.read_label, "position": teaser.position, "score": teaser.score}


def render_json(listing: RelatedList) -> bytes:
    """The response body up to (and including the opening quote of) the request id."""
    payload = {"article": {"id": listing.article_id, "url": listing.article_url,
                           "title": listing.article_title},
               "items": [_item(t) for t in listing.items], "build_id": listing.build_id}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return (text[:-1] + ',"request_id":"').encode()


def _respond(by: lookup.By, key: str) -> Response:
    settings = db.resources().settings
    k = params.k_param(settings.related_k)
    rendered = lookup.related("json", by, key, k, render_json)
    body = rendered.body + request_ids.current().encode() + _TAIL
    return cached_response(body, rendered.etag, JSON, settings)


@bp.get("/related")
def related_by_url() -> Response:
    """Related reading for the page at ``?url=`` (tracking parameters ignored)."""
    return _respond("url", params.url_param())


@bp.get("/articles/<path:article_id>/related")
def related_by_id(article_id: str) -> Response:
    """Related reading for the article with this CMS id."""
    return _respond("id", params.article_id(article_id))


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of every endpoint."""
    response = jsonify(openapi_document(db.resources().settings))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
