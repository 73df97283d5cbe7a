"""HTTP caching and CORS for the public endpoints (the JSON API and the widget).

Every page view of every article asks for its list, so public responses are built to be cached by
browsers and CDNs: a strong ETag per representation, ``If-None-Match`` answered with 304, and
``stale-while-revalidate`` so a reader never waits on a revalidation. CORS is opt-in per blueprint
(``PUBLIC_BLUEPRINTS``): endpoints added later (editors', authenticated) get none by default.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request

from recommender.settings import Settings

PUBLIC_BLUEPRINTS = frozenset({"api", "widget"})
EXPOSED_HEADERS = "ETag, X-Request-ID"
PREFLIGHT_MAX_AGE = "86400"


def make_etag(*parts: str | bytes) -> str:
    """A strong ETag (quoted) over everything that shapes one representation."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return f'"{digest.hexdigest()[:32]}"'


def cache_control(settings: Settings) -> str:
    return (f"public, max-age={settings.cache_max_age}, "
            f"stale-while-revalidate={settings.stale_while_revalidate}")


def cached_response(body: bytes, etag: str, mimetype: str, settings: Settings) -> Response:
    """200 with the body, or 304 without it when the client already holds this ETag."""
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(body, mimetype=mimetype)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control(settings)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    allowed = frozenset(settings.widget_origins)
    any_origin = "*" in allowed

    @app.after_request
    def cors(response: Response) -> Response:
        """Let the configured sites' pages fetch the widget and the JSON from the browser."""
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.blueprint not in PUBLIC_BLUEPRINTS or not allowed:
            return response
        if any_origin:
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            response.vary.add("Origin")
            origin = request.headers.get("Origin")
            if origin not in allowed:
                return response
            response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "If-None-Match, X-Request-ID"
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
