"""WordPress sites through the REST API (``/wp-json/wp/v2/posts``) into article records.

``_embed=1`` brings authors, categories, tags and the featured image in the same response, so a
sync costs one request per 100 posts. Pages are walked by id (stable while editors publish) until
``X-WP-TotalPages`` or WordPress's ``rest_post_invalid_page_number`` says there are no more.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from recommender.catalog import text as textutil
from recommender.catalog.sources.http import (
    DEFAULT_TIMEOUT,
    Fetched,
    SourceError,
    fetch,
    host_of,
    is_remote,
    parse_json,
)

PER_PAGE = 100
MAX_PAGES = 10_000
STATUS_MAP = {"publish": "published", "draft": "draft", "pending": "draft", "private": "draft",
              "auto-draft": "draft", "future": "scheduled", "trash": "unpublished",
              "withdrawn": "unpublished"}
_READ_MORE = re.compile(r"\s*(\[(…|\.\.\.)\]|…)\s*$")


def _rendered(post: dict[str, Any], name: str) -> str:
    value = post.get(name)
    return str(value.get("rendered") or "") if isinstance(value, dict) else ""


def _gmt(value: Any) -> str | None:
    """WordPress gives GMT times without a zone (and zeros for undated drafts)."""
    if not value or str(value).startswith("0000"):
        return None
    return f"{value}Z"


def _terms(embedded: dict[str, Any], taxonomy: str) -> list[str]:
    names: list[str] = []
    for group in embedded.get("wp:term") or []:
        for term in group if isinstance(group, list) else []:
            if isinstance(term, dict) and term.get("taxonomy") == taxonomy and term.get("name"):
                names.append(str(term["name"]))
    return names


def post_to_record(post: dict[str, Any]) -> dict[str, Any]:
    """One REST API post as a plain article record (validation happens in parse_article)."""
    raw = post.get("_embedded")
    embedded: dict[str, Any] = raw if isinstance(raw, dict) else {}
    authors = [str(a["name"]) for a in embedded.get("author") or []
               if isinstance(a, dict) and a.get("name")]
    media = embedded.get("wp:featuredmedia")
    first = media[0] if isinstance(media, list) and media else None
    image = first.get("source_url") if isinstance(first, dict) else None  # may be an error object
    categories = _terms(embedded, "category")
    status = str(post.get("status") or "publish")
    return {
        "id": f"wp-{post['id']}" if post.get("id") is not None else None,
        "url": post.get("link"),
        "title": _rendered(post, "title"),
        "dek": _READ_MORE.sub("", textutil.clean_line(_rendered(post, "excerpt"))),
        "body": textutil.clean_text(_rendered(post, "content")),
        "authors": authors,
        "section": categories[0] if categories else "",
        "tags": _terms(embedded, "post_tag"),
        "status": STATUS_MAP.get(status, "unpublished"),
        "published_at": _gmt(post.get("date_gmt")),
        "updated_at": _gmt(post.get("modified_gmt")),
        "image": image,
    }


def page_url(site: str, page: int, since: datetime | None) -> str:
    query: dict[str, str | int] = {"per_page": PER_PAGE, "page": page, "_embed": 1,
                                   "orderby": "id", "order": "asc"}
    if since is not None:
        query["modified_after"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{site}/wp-json/wp/v2/posts?{urlencode(query)}"


def _error_code(body: bytes) -> str:
    try:
        return str(json.loads(body).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _fetch_pages(site: str, since: datetime | None, timeout: float) -> list[tuple[str, Any]]:
    """(where, post) for every post on every page; any failed page fails the whole sync."""
    if not is_remote(site):  # a saved API response: one page
        response = fetch(site, timeout=timeout)
        pages = [(site, parse_json(response))]
    else:
        pages = []
        for page in range(1, MAX_PAGES + 1):
            url = page_url(site, page, since)
            try:
                response = fetch(url, timeout=timeout, accept="application/json")
            except SourceError as exc:
                if exc.status == 400 and _error_code(exc.body) == "rest_post_invalid_page_number":
                    break
                raise
            pages.append((url, parse_json(response)))
            total = response.header("X-WP-TotalPages")
            if not pages[-1][1] or (total and total.isdigit() and page >= int(total)):
                break
    posts: list[tuple[str, Any]] = []
    for url, data in pages:
        if not isinstance(data, list):
            raise SourceError(url, "malformed response: expected a JSON list of posts")
        posts.extend((f"{url} post {n}", post) for n, post in enumerate(data, start=1))
    return posts


def fetch_wordpress(site: str, *, since: datetime | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> Fetched:
    """Every post of a site (only those modified after ``since``, when given)."""
    site = site.rstrip("/")
    out = Fetched(id_prefix="wp-")
    out.hosts.add(host_of(site))
    for where, post in _fetch_pages(site, since, timeout):
        if not isinstance(post, dict):
            out.skipped.append((where, "expected a JSON object"))
            continue
        record = post_to_record(post)
        modified = record["updated_at"]
        if since is not None and modified and datetime.fromisoformat(modified) <= since:
            out.not_modified += 1  # a server too old for modified_after sends everything
            continue
        out.hosts.add(host_of(record["url"]))
        out.records.append((f"{where} (id {post.get('id')})", record))
    return out
