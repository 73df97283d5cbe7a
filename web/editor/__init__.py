"""The editors' UI under ``/editor``: sign-in, article explanations, curation, previews, audit.

Server-rendered (Jinja, autoescaped) and usable without JavaScript. ``init_app`` sets the session
cookie's safety flags, registers the blueprint and its guards (``web.editor.guard``); the views
live in one module per page and are imported here so that registering them is explicit.
"""

from __future__ import annotations

import logging

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface

from recommender.accounts.sessions import SESSION_LIFETIME
from recommender.settings import Settings

log = logging.getLogger(__name__)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import request

        req: Request = request
        return bool(super().get_cookie_secure(app) or req.is_secure)


def init_app(app: Flask, settings: Settings) -> None:
    from web.editor import (  # noqa: F401 (routes; experiments and performance: #16)
        articles,
        audit,
        auth,
        drafts,
        experiments,
        guard,
        performance,
        policy,
    )

    if not settings.secret_key:
        log.warning("RELATED_SECRET_KEY is empty: editor sessions are signed with a random key "
                    "made for this process and end when it restarts; set it in production")
    # Assigned, not setdefault: Flask's config always has this key (31 days), so setdefault never
    # applied ours. The server-side row (recommender.accounts.sessions) expires at the same time.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.session_interface = _SessionInterface()
    app.register_blueprint(guard.bp)
