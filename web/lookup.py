"""The one read path behind the API and the widget: find the page, take its list, render, memoise.

Views only say how a list is rendered; finding the article (URL normalised, live only), applying
liveness and curation (both in ``readers.lookup_related``) and the memo (``web.memo``) are shared
here so the JSON and the HTML can never disagree about what is visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from flask import Flask, current_app
from sqlalchemy import event

from recommender.readers import ArticleNotFound, RelatedList, lookup_related
from web import db, metrics
from web.caching import make_etag
from web.errors import ApiError
from web.memo import DataVersion, Rendered, ResponseMemo

EXTENSION = "related_memo"
By = Literal["id", "url"]
Renderer = Callable[[RelatedList], bytes]


def init_app(app: Flask) -> None:
    resources = app.extensions[db.EXTENSION]
    version = DataVersion(resources.engine, float(app.config["RESPONSE_CACHE_POLL_SECONDS"]))
    # This process's own commits (webhook, editors) are seen at once, other processes' by the poll.
    event.listen(resources.session_factory, "after_commit", lambda _session: version.touch())
    app.extensions[EXTENSION] = ResponseMemo(version, int(app.config["RESPONSE_CACHE_ENTRIES"]),
                                             float(app.config["RESPONSE_CACHE_SECONDS"]))


def memo() -> ResponseMemo:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def related(kind: str, by: By, key: str, k: int, render: Renderer) -> Rendered:
    """The rendered list of the live article with this id or (normalised) URL; 404 if none.

    ``kind`` names the representation: it is part of the memo key and of the ETag.
    """
    cache = memo()
    memo_key = (kind, by, key, k)
    version = cache.version()  # before any read, so a concurrent commit invalidates this build
    hit = cache.get(memo_key, version)
    counters = metrics.instruments()
    if hit is not None:
        counters.memo_hit.inc()
        return hit
    counters.memo_miss.inc()
    try:
        # No ORM session, no Connection object: one prepared statement on a pooled connection.
        resources = db.resources()
        same_language = resources.settings.ranking.same_language  # the readers' language rule
        listing = (lookup_related(resources.engine, k, external_id=key, same_language=same_language)
                   if by == "id" else lookup_related(resources.engine, k, url=key,
                                                     same_language=same_language))
    except ArticleNotFound as exc:
        raise ApiError(404, str(exc)) from None
    body = render(listing)
    rendered = Rendered(body=body, etag=make_etag(kind, listing.etag, body))
    cache.put(memo_key, version, rendered)
    return rendered
