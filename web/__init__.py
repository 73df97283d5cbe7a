"""The Flask app: readers' JSON API, the embeddable widget, health checks and (when enabled) the
demo site.

Only the factory lives here, and it imports its parts inside, so ``import web`` builds nothing and
loads no heavy library: gunicorn's master, the CLI and tests import it for free. The reader's path
is pure SQL (``recommender.readers``); the model and FAISS are never loaded by these views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from recommender.settings import Settings

# Readers only send GETs; anything bigger than this is not a request we serve.
MAX_CONTENT_LENGTH = 64 * 1024


def create_app(settings: Settings | None = None, config: dict[str, Any] | None = None) -> Flask:
    """Build the app for one deployment (settings from ``RELATED_*`` when not given)."""
    import secrets

    from flask import Flask

    from recommender.settings import Settings
    from web import api, caching, db, demo, errors, health, ingest, lookup, metrics, request_ids, widget

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    # The memo never holds a list longer than browsers and CDNs may (Cache-Control max-age).
    app.config.update(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
                      SECRET_KEY=settings.secret_key or secrets.token_hex(32),
                      RESPONSE_CACHE_ENTRIES=20_000,
                      RESPONSE_CACHE_SECONDS=settings.cache_max_age,
                      # PostgreSQL: how stale another replica's commit may be here (web.memo).
                      RESPONSE_CACHE_POLL_SECONDS=0.25)
    app.config.from_prefixed_env()  # FLASK_RESPONSE_CACHE_ENTRIES=0 turns the memo off, etc.
    app.config.update(config or {})
    app.extensions["related_settings"] = settings
    if settings.trusted_proxies:
        # Behind a reverse proxy every request's address is the proxy's: take the client's
        # from the header the trusted proxies append (the last N entries, never what the
        # client itself sent), so the sign-in limit counts per reader again.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    # Sitemap-imported articles use their URL as id: ``//`` in a path must survive routing.
    app.url_map.merge_slashes = False

    db.init_app(app, settings)
    lookup.init_app(app)
    request_ids.init_app(app)
    metrics.init_app(app)
    caching.init_app(app, settings)
    errors.init_app(app)
    app.register_blueprint(api.bp)
    app.url_map.converters["withdrawable_id"] = ingest.WithdrawableId
    app.register_blueprint(ingest.bp)  # the CMS's publish webhook (no CORS)
    app.register_blueprint(widget.bp)
    app.register_blueprint(health.bp)
    # The demo magazine serves the full text of every live article: only when RELATED_DEMO_SITE
    # turns it on (the demo does), never on a production site by default.
    app.jinja_env.globals["demo_site"] = settings.demo_site
    if settings.demo_site:
        app.register_blueprint(demo.bp)
    from web import editor, preview

    app.register_blueprint(preview.bp)  # draft preview for the CMS and editors (no CORS)
    editor.init_app(app, settings)  # the editors' pages under /editor
    from web import events  # --- #16 readers' feedback

    events.init_app(app)  # POST /api/v1/events (its own CORS: POST from the sites' pages)
    return app
