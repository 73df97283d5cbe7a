"""``POST /api/v1/events``: the widget's impressions and clicks, stored before the 204.

Public and unauthenticated, so the view is defensive: readers who ask not to be tracked (``DNT: 1``,
``Sec-GPC: 1``) and known crawlers get a 204 and nothing is written; a browser on a site not in
``RELATED_WIDGET_ORIGINS`` is refused; bodies over 16 kB, malformed events, unknown articles and
oversized batches get a 400 naming the problem, with nothing stored; one client may send at most
``RELATED_EVENTS_RATE_LIMIT`` events a minute (kept in this worker's memory, never stored). The
batch is committed before the 204, so an acknowledged event survives the worker being killed.
JSON and ``text/plain`` bodies are both read: ``navigator.sendBeacon`` sends the latter without a
CORS preflight.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext

from flask import Blueprint, Flask, Response, current_app, request

from recommender.feedback.events import MAX_BODY_BYTES, EventError, is_crawler, parse_batch, store
from recommender.feedback.limits import RateLimiter
from web import db
from web.errors import ApiError

bp = Blueprint("events", __name__, url_prefix="/api/v1")
LIMITER = "related_events_limiter"
CONTENT_TYPES = ("application/json", "text/plain")
# SQLite has one writer at a time; threads of one worker queue here for it rather than in SQLite's
# busy handler, which sleeps in growing steps (up to 100 ms) and made the p99 of a burst seconds.
_SQLITE_WRITES = threading.Lock()


def init_app(app: Flask) -> None:
    settings = app.extensions[db.EXTENSION].settings
    app.extensions[LIMITER] = RateLimiter(settings.events_rate_limit)
    app.register_blueprint(bp)


def _origin_allowed(origin: str | None) -> bool:
    if origin is None:
        return True  # not a browser's cross-site request (a server, a test client)
    allowed = db.resources().settings.widget_origins
    return "*" in allowed or origin in allowed or origin == request.host_url.rstrip("/")


@bp.after_request
def cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    response.headers["Cache-Control"] = "no-store"
    if origin is not None and _origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.route("/events", methods=["OPTIONS"])
def preflight() -> Response:
    return Response(status=204)


def _not_tracked() -> bool:
    return (request.headers.get("DNT", "").strip() == "1"
            or request.headers.get("Sec-GPC", "").strip() == "1"
            or is_crawler(request.headers.get("User-Agent", "")))


def _body() -> bytes:
    if request.mimetype not in CONTENT_TYPES:
        raise ApiError(400, f"expected a JSON body sent as application/json or text/plain, "
                            f"not {request.mimetype or 'no content type'}", "body")
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise ApiError(400, f"the batch is {length} bytes; at most {MAX_BODY_BYTES} are "
                            "accepted", "body")
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(400, f"the batch is over {MAX_BODY_BYTES} bytes", "body")
    return body


@bp.post("/events")
def events() -> Response:
    """Store one batch of impressions and clicks; 204 once committed."""
    if not _origin_allowed(request.headers.get("Origin")):
        raise ApiError(403, "this site's origin may not send events (RELATED_WIDGET_ORIGINS)")
    if _not_tracked():
        return Response(status=204)
    body = _body()
    try:
        batch = parse_batch(body)
    except EventError as exc:
        raise ApiError(400, str(exc), "body") from None
    limiter: RateLimiter = current_app.extensions[LIMITER]
    if not limiter.allow(request.remote_addr or "", len(batch)):
        raise ApiError(429, "too many events from this client; try again in a minute",
                       headers={"Retry-After": "60"})
    session = db.get_session()
    sqlite = session.get_bind().dialect.name == "sqlite"
    serial: AbstractContextManager[object] = _SQLITE_WRITES if sqlite else nullcontext()
    try:
        with serial:
            store(session, batch)
            session.commit()
    except EventError as exc:
        session.rollback()
        raise ApiError(400, str(exc), "body") from None
    return Response(status=204)
