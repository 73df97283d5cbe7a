"""The embeddable widget: a server-rendered HTML fragment and the small script that places it.

The fragment works with no JavaScript (an iframe or a CMS template include); the script fills
``<div data-related-reading>`` elements on any site from this server's origin. An article with
nothing to show gets an empty fragment, never a heading over an empty box.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template

from recommender.feedback.arms import arm_for
from recommender.readers import RelatedList
from web import db, lookup, params
from web.caching import cached_response, make_etag

bp = Blueprint("widget", __name__, url_prefix="/widget")
SCRIPT = Path(__file__).resolve().parent / "static" / "widget-v1.js"
HTML = "text/html"


def safe_href(url: str) -> str:
    """Only http(s) links reach a reader's page (stored URLs are normalised; this is a backstop)."""
    return url if urlsplit(url).scheme in ("http", "https") else "#"


def render_fragment(listing: RelatedList) -> bytes:
    if not listing.items:
        return b""
    heading = db.resources().settings.widget_heading
    # #16: the arm (experiment) of the build this list came from, for the script's events
    arm = arm_for(db.get_session(), listing.build_id, listing.article_id)
    return render_template("widget/related.html", listing=listing, heading=heading,
                           href=safe_href, arm=arm).encode()


@bp.get("/related.html")
def fragment() -> Response:
    """The related-reading box for the page at ``?url=``, as an HTML fragment."""
    settings = db.resources().settings
    url = params.url_param()
    k = params.k_param(settings.related_k)
    rendered = lookup.related("html", "url", url, k, render_fragment)
    return cached_response(rendered.body, rendered.etag, HTML, settings)


@cache
def _script() -> tuple[bytes, str]:
    body = SCRIPT.read_bytes()
    return body, make_etag("script", body)


@bp.get("/v1.js")
def script() -> Response:
    """The embed script; a site adds it once with ``<script src=".../widget/v1.js" async>``."""
    body, etag = _script()
    return cached_response(body, etag, "text/javascript", db.resources().settings)
