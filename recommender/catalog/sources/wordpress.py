"""WordPress sites through the REST API (``wp/v2/posts``) into article records.

The API is found the way WordPress advertises it (``Link: <…>; rel="https://api.w.org/"`` or the
same ``<link>`` in the page), so plain permalinks (``?rest_route=``) and sites in a subdirectory
work. ``_embed=1`` brings authors, categories, tags and the featured image in the same response,
so a sync costs one request per 100 posts. Pages are walked by id (stable while editors publish)
until ``X-WP-TotalPages`` or ``rest_post_invalid_page_number`` says there are no more. With an
application password (``sources.auth``) every status is read, trash included; without one only
published posts are visible, and the sync says so. Password-protected posts are never published.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from recommender.catalog import text as textutil
from recommender.catalog.sources.auth import AUTH_FILE_SETTING, AUTH_SETTING, Credentials
from recommender.catalog.sources.http import (
    DEFAULT_TIMEOUT,
    Fetched,
    Response,
    SourceError,
    fetch,
    host_of,
    is_remote,
    parse_json,
)
from recommender.catalog.urls import InvalidURL, normalize_url

PER_PAGE = 100
MAX_PAGES = 10_000
STATUS_MAP = {"publish": "published", "draft": "draft", "pending": "draft", "private": "draft",
              "auto-draft": "draft", "future": "scheduled", "trash": "unpublished",
              "withdrawn": "unpublished"}
STATUSES_WITH_AUTH = "publish,future,draft,pending,private,trash"
_TRUNCATED = re.compile(r"\[(?:…|&hellip;|&#8230;|\.\.\.)\]|more-link|Continue reading")
_LINK_HEADER = re.compile(r'<([^>]+)>\s*;\s*rel="?https://api\.w\.org/"?')
_LINK_TAG = re.compile(r'<link[^>]+rel=["\']https://api\.w\.org/["\'][^>]*>', re.IGNORECASE)
_HREF = re.compile(r'href=["\']([^"\']+)["\']')
UNAUTHENTICATED_NOTE = ("{site}: no credentials, so only published posts are visible (drafts, "
                        "scheduled, private and trashed posts need an application password in "
                        f"{AUTH_SETTING} or {AUTH_FILE_SETTING})")


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


def _section(post: dict[str, Any], embedded: dict[str, Any]) -> str:
    """The primary category: Yoast's primary term when the site exposes it, else the first of
    the post's own categories (the order the editor gave, not the alphabetical one)."""
    names: dict[Any, str] = {}
    for group in embedded.get("wp:term") or []:
        for term in group if isinstance(group, list) else []:
            if isinstance(term, dict) and term.get("taxonomy") == "category" and term.get("name"):
                names[term.get("id")] = str(term["name"])
    meta = post.get("meta")
    primary = meta.get("_yoast_wpseo_primary_category") if isinstance(meta, dict) else None
    given = post.get("categories")
    ids: list[Any] = given if isinstance(given, list) else []
    for term_id in [primary, post.get("yoast_primary_category"), *ids]:
        if term_id in names:
            return names[term_id]
    return next(iter(names.values()), "")


def _protected(post: dict[str, Any]) -> bool:
    """A password-protected post: never for readers, whatever its status."""
    return any(isinstance(post.get(name), dict) and post[name].get("protected")
               for name in ("content", "excerpt"))


def _summary(post: dict[str, Any]) -> str:
    """The hand-written excerpt; WordPress's automatic one (the content's first 55 words, cut
    mid-sentence, "[…]") gives way to the post's own first sentences."""
    excerpt, content = _rendered(post, "excerpt"), _rendered(post, "content")
    if not excerpt.strip():
        return content
    if _TRUNCATED.search(excerpt):
        start = textutil.dek(excerpt, limit=100_000)[:40]
        if start and textutil.clean_line(textutil.strip_shortcodes(content)).startswith(start):
            return content
    return excerpt


def post_to_record(post: dict[str, Any]) -> dict[str, Any]:
    """One REST API post as a plain article record (validation happens in parse_article)."""
    raw = post.get("_embedded")
    embedded: dict[str, Any] = raw if isinstance(raw, dict) else {}
    authors = [str(a["name"]) for a in embedded.get("author") or []
               if isinstance(a, dict) and a.get("name")]
    media = embedded.get("wp:featuredmedia")
    first = media[0] if isinstance(media, list) and media else None
    image = first.get("source_url") if isinstance(first, dict) else None  # may be an error object
    categories = _section(post, embedded)
    status = str(post.get("status") or "publish")
    return {
        "id": f"wp-{post['id']}" if post.get("id") is not None else None,
        "url": post.get("link"),
        "title": _rendered(post, "title"),
        "dek": textutil.dek(_summary(post)),
        "body": textutil.clean_text(textutil.strip_shortcodes(_rendered(post, "content"))),
        "authors": authors,
        "section": categories,
        "tags": _terms(embedded, "post_tag"),
        "status": "unpublished" if _protected(post) else STATUS_MAP.get(status, "unpublished"),
        "published_at": _gmt(post.get("date_gmt")),
        "updated_at": _gmt(post.get("modified_gmt")),
        "image": image,
    }


def discover_api(site: str, timeout: float) -> str:
    """The REST API root the site advertises (header, then ``<link>``), else ``SITE/wp-json/``."""
    if "/wp-json" in site or "rest_route=" in site:
        return site
    try:
        response = fetch(site + "/", timeout=timeout, accept="text/html")
    except SourceError as exc:
        if exc.status is None:
            raise
        return site + "/wp-json/"
    match = _LINK_HEADER.search(response.header("link") or "")
    if match:
        return urljoin(response.url, str(match.group(1)))
    tag = _LINK_TAG.search(response.text()[:200_000])
    href = _HREF.search(tag.group(0)) if tag else None
    return urljoin(response.url, href.group(1)) if href else site + "/wp-json/"


def endpoint(api: str, route: str, query: dict[str, str | int]) -> str:
    """``route`` under the API root, for both ``/wp-json/`` and ``?rest_route=/`` roots."""
    parts = urlsplit(api)
    params = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "rest_route" for name, _ in params):
        params = [(n, v) for n, v in params if n != "rest_route"] + [("rest_route", "/" + route)]
        return urlunsplit(parts._replace(query=urlencode(params + list(query.items()))))
    base = api if api.endswith("/") else api + "/"
    return f"{base}{route}?{urlencode(query)}"


def page_query(page: int, since: datetime | None, authenticated: bool,
               fields: str = "") -> dict[str, str | int]:
    query: dict[str, str | int] = {"per_page": PER_PAGE, "page": page, "orderby": "id",
                                   "order": "asc"}
    query.update({"_fields": fields} if fields else {"_embed": 1})
    if authenticated:
        query["status"] = STATUSES_WITH_AUTH
    if since is not None:
        query["modified_after"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return query


def page_url(site: str, page: int, since: datetime | None) -> str:
    """The first-generation URL (``SITE/wp-json/...``), for sites that do not advertise one."""
    return endpoint(site + "/wp-json/", "wp/v2/posts", page_query(page, since, False))


def _error_code(body: bytes) -> str:
    try:
        return str(json.loads(body).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _refused(exc: SourceError, credentials: Credentials | None) -> SourceError:
    """401/403 worded for a person: which setting to fix; the secret and the reply are left out."""
    if credentials is None:
        return SourceError(exc.url, f"{exc.reason}: the site wants credentials; set "
                                    f"{AUTH_SETTING} or {AUTH_FILE_SETTING}", status=exc.status)
    return SourceError(exc.url, f"{exc.reason}: the application password for user "
                                f"{credentials.user!r} was refused; check {credentials.origin}",
                       status=exc.status)


def check_credentials(api: str, credentials: Credentials, timeout: float) -> None:
    """Ask who we are before anything else: a refused password fails the sync with a message
    naming the setting (WordPress would otherwise answer the list with a vaguer 400)."""
    url = endpoint(api, "wp/v2/users/me", {"_fields": "id"})
    try:
        fetch(url, timeout=timeout, accept="application/json",
              headers={"Authorization": credentials.header()})
    except SourceError as exc:
        if exc.status in (400, 401, 403):
            raise _refused(exc, credentials) from None
        raise SourceError(exc.url, exc.reason, status=exc.status) from None


def _walk(api: str, since: datetime | None, credentials: Credentials | None, timeout: float,
          fields: str = "") -> list[tuple[str, Any]]:
    """(url, JSON) of every page; any failed page fails the whole sync."""
    headers = {"Authorization": credentials.header()} if credentials else {}
    pages: list[tuple[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        url = endpoint(api, "wp/v2/posts", page_query(page, since, credentials is not None, fields))
        try:
            response: Response = fetch(url, timeout=timeout, accept="application/json",
                                       headers=headers)
        except SourceError as exc:
            if exc.status == 400 and _error_code(exc.body) == "rest_post_invalid_page_number":
                break
            if exc.status in (401, 403):
                raise _refused(exc, credentials) from None
            raise SourceError(exc.url, exc.reason, status=exc.status) from None
        pages.append((url, parse_json(response)))
        total = response.header("X-WP-TotalPages")
        if not pages[-1][1] or (total and total.isdigit() and page >= int(total)):
            break
    return pages


def _posts(pages: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    posts: list[tuple[str, Any]] = []
    for url, data in pages:
        if not isinstance(data, list):
            raise SourceError(url, "malformed response: expected a JSON list of posts")
        posts.extend((f"{url} post {n}", post) for n, post in enumerate(data, start=1))
    return posts


def _listed(posts: list[tuple[str, Any]]) -> set[str]:
    """Every id and normalised link the site lists now: what withdrawal compares against."""
    keys: set[str] = set()
    for _, post in posts:
        if isinstance(post, dict) and post.get("id") is not None and post.get("status") != "trash":
            keys.add(f"wp-{post['id']}")
            with contextlib.suppress(InvalidURL):
                keys.add(normalize_url(str(post.get("link") or "")))
    return keys


def fetch_wordpress(site: str, *, since: datetime | None = None, timeout: float = DEFAULT_TIMEOUT,
                    credentials: Credentials | None = None) -> Fetched:
    """Every post of a site (only those modified after ``since``, when given; the list of what
    the site still has is always complete, so withdrawals are seen by incremental syncs too)."""
    site = site.rstrip("/")
    out = Fetched(complete=True)
    out.hosts.add(host_of(site))
    if not is_remote(site):  # a saved API response: one page, all there is
        posts = _posts([(site, parse_json(fetch(site, timeout=timeout)))])
    else:
        api = discover_api(site, timeout)
        if credentials is not None:
            check_credentials(api, credentials, timeout)
        posts = _posts(_walk(api, since, credentials, timeout))
        if since is not None:  # ids and links only: cheap, and complete
            out.listed = _listed(_posts(_walk(api, None, credentials, timeout, "id,link,status")))
        if credentials is None:
            out.notes.append(UNAUTHENTICATED_NOTE.format(site=site))
    if since is None or not is_remote(site):
        out.listed = _listed(posts)
    for where, post in posts:
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
