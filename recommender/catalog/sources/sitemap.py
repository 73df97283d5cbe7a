"""Sitemaps (and sitemap indexes) plus the article pages they list into article records.

Sites without a feed or an API still publish a sitemap for search engines. Metadata comes from
what the page declares for them (JSON-LD NewsArticle, then Open Graph, then trafilatura's
heuristics), the body from trafilatura's main-text extraction; the id is the canonical URL, and
``lastmod`` lets an incremental sync skip pages that have not changed.

Only articles are imported. A sitemap index also lists category, tag and author archives and
static pages; those child sitemaps are recognised by the subtype in their name (WordPress core's
``wp-sitemap-taxonomies-category-1.xml``, Yoast's ``page-sitemap.xml``…) and not read, and a page
that declares itself something else (``og:type`` other than article, a JSON-LD WebPage without an
Article, WordPress's archive/page body classes, the front page) is skipped with the reason.
Password-protected and ``noindex`` pages are not public and are skipped the same way.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import trafilatura

from recommender.catalog.sources.http import (
    DEFAULT_TIMEOUT,
    Fetched,
    SourceError,
    fetch,
    host_of,
    maybe_gunzip,
)
from recommender.catalog.urls import InvalidURL, normalize_url

MAX_DEPTH = 3  # index -> sitemap -> ... ; deeper nesting is a loop or a mistake
_ARTICLE_TYPES = {"Article": "news", "NewsArticle": "news", "ReportageNewsArticle": "news",
                  "BlogPosting": "news", "AnalysisNewsArticle": "analysis",
                  "OpinionNewsArticle": "opinion", "ReviewNewsArticle": "review", "Review": "review"}
_GONE = (404, 410)
# child sitemaps of things that are not articles: WordPress core, Yoast, Rank Math, plain permalinks
_NOT_ARTICLES = re.compile(r"(taxonom|categor|post_tag|[-_/=]tags?\b|author|users|-page-|"
                           r"/page-sitemap|sitemap-subtype=page|[-_/=]pages?[-_.]sitemap)",
                           re.IGNORECASE)
_NON_ARTICLE_CLASSES = {"archive", "home", "blog", "page", "search", "author", "category", "tag",
                        "error404", "attachment"}
_NON_ARTICLE_LD = {"WebPage", "CollectionPage", "ProfilePage", "AboutPage", "ContactPage",
                   "SearchResultsPage", "WebSite", "Person", "Organization"}


def _lastmod(text: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_sitemap(location: str, body: bytes) -> tuple[str, list[tuple[str, datetime | None]]]:
    """("urlset" | "sitemapindex", [(loc, lastmod)]) or SourceError for anything else."""
    try:
        root = ElementTree.fromstring(maybe_gunzip(location, body))
    except ElementTree.ParseError as exc:
        raise SourceError(location, f"malformed sitemap XML: {exc}") from None
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("urlset", "sitemapindex"):
        raise SourceError(location, f"malformed sitemap: root element is <{kind}>, "
                                    "expected <urlset> or <sitemapindex>")
    entries = []
    for node in root:
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in node}
        if fields.get("loc"):
            entries.append((urljoin(location, fields["loc"]), _lastmod(fields.get("lastmod"))))
    return kind, entries


class _HeadParser(HTMLParser):
    """The metadata a page declares for search engines: meta tags, canonical link, JSON-LD."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.canonical = ""
        self.language = ""
        self.json_ld: list[str] = []
        self.body_classes: set[str] = set()
        self.protected = False
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and (a.get("property") or a.get("name")) and a.get("content"):
            self.meta.setdefault((a.get("property") or a["name"]).lower(), []).append(a["content"])
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split() and not self.canonical:
            self.canonical = a.get("href", "")
        elif tag == "html":
            self.language = a.get("lang", "").split("-")[0]
        elif tag == "body":
            self.body_classes = set(a.get("class", "").split())
        if "post-password-form" in a.get("class", "").split():
            self.protected = True
        self._in_ld = tag == "script" and a.get("type", "").lower() == "application/ld+json"

    def handle_endtag(self, tag: str) -> None:
        self._in_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(data)


def _article_type(node: dict[str, Any]) -> str:
    types = node.get("@type")
    return next((t for t in (types if isinstance(types, list) else [types]) if t in _ARTICLE_TYPES), "")


def _article_ld(blocks: list[str]) -> dict[str, Any]:
    """The first Article-like JSON-LD object (top level, in a list or in an @graph)."""
    for block in blocks:
        try:
            data = json.loads(block)
        except ValueError:
            continue
        nodes = data if isinstance(data, list) else [data]
        nodes += [n for d in list(nodes) if isinstance(d, dict) for n in d.get("@graph") or []]
        for node in nodes:
            if isinstance(node, dict) and _article_type(node):
                return node
    return {}


def _names(value: Any) -> list[str]:
    """JSON-LD people/keywords/images: a string, an object with name/url, or a list of those."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name") or value.get("url"))
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    return []


def _main_text(html: str, location: str, title: Any) -> str:
    """trafilatura's main text as paragraphs, without the headline it usually repeats."""
    text = trafilatura.extract(html, url=location, include_comments=False, include_tables=False)
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if lines and isinstance(title, str) and lines[0].casefold() == title.strip().casefold():
        lines = lines[1:]
    return "\n\n".join(lines)


def _ld_types(blocks: list[str]) -> set[str]:
    types: set[str] = set()
    for block in blocks:
        with contextlib.suppress(ValueError):
            data = json.loads(block)
            nodes = data if isinstance(data, list) else [data]
            nodes += [n for d in list(nodes) if isinstance(d, dict) for n in d.get("@graph") or []]
            for node in (n for n in nodes if isinstance(n, dict)):
                found = node.get("@type")
                types.update(str(t) for t in (found if isinstance(found, list) else [found]) if t)
    return types


def not_an_article(location: str, head: _HeadParser) -> str:
    """Why this page is not an article (or not public), from what it declares; "" if it is one."""
    if head.protected or "post-password-required" in head.body_classes:
        return "password-protected"
    robots = " ".join(head.meta.get("robots", [])).lower()
    if "noindex" in robots:
        return "not public (robots noindex)"
    og_type = (head.meta.get("og:type") or [""])[0].lower()
    if og_type and og_type != "article":
        return f"not an article (og:type {og_type})"
    types = _ld_types(head.json_ld)
    if types & _NON_ARTICLE_LD and not types & set(_ARTICLE_TYPES):
        return f"not an article (JSON-LD {', '.join(sorted(types & _NON_ARTICLE_LD))})"
    if "single" not in head.body_classes and head.body_classes & _NON_ARTICLE_CLASSES:
        return f"not an article ({', '.join(sorted(head.body_classes & _NON_ARTICLE_CLASSES))} page)"
    if urlsplit(location).path in ("", "/") and not urlsplit(location).query:
        return "not an article (front page)"
    return ""


def read_head(html: str) -> _HeadParser:
    head = _HeadParser()
    head.feed(html)
    head.close()
    return head


def page_to_record(location: str, html: str, lastmod: datetime | None = None) -> dict[str, Any]:
    """One article page as a plain record: JSON-LD first, then Open Graph, then trafilatura."""
    head = read_head(html)
    ld = _article_ld(head.json_ld)
    meta = {k: v[0] for k, v in head.meta.items()}
    doc = trafilatura.extract_metadata(html, default_url=location)
    keywords = _names(ld.get("keywords"))
    if len(keywords) == 1:
        keywords = keywords[0].split(",")
    authors = _names(ld.get("author")) or [a for a in head.meta.get("article:author", [])
                                           if "://" not in a] or (doc.author or "").split(";")
    canonical = urljoin(location, head.canonical or meta.get("og:url") or ld.get("url") or location)
    with contextlib.suppress(InvalidURL):  # parse_article reports the bad URL
        canonical = normalize_url(canonical)
    # Yoast's article:section is the primary category; JSON-LD lists every category
    section = [meta.get("article:section") or ""] if meta.get("article:section") else (
        _names(ld.get("articleSection")) or [""])
    title = ld.get("headline") or meta.get("og:title") or doc.title
    return {
        "id": canonical,
        "url": canonical,
        "title": title,
        "dek": ld.get("description") or meta.get("og:description") or meta.get("description")
        or doc.description,
        "body": _main_text(html, location, title),
        "authors": [a.strip() for a in authors if a.strip()],
        "tags": [k.strip() for k in keywords] or head.meta.get("article:tag") or doc.tags or [],
        "section": section[0] or (doc.categories or [""])[0],
        "content_type": _ARTICLE_TYPES.get(_article_type(ld), "news"),
        "language": head.language,
        "published_at": ld.get("datePublished") or meta.get("article:published_time") or doc.date,
        "updated_at": ld.get("dateModified") or meta.get("article:modified_time")
        or (lastmod.isoformat() if lastmod else None),
        "image": (_names(ld.get("image")) or [meta.get("og:image") or doc.image or ""])[0] or None,
    }


def _page_entries(location: str, timeout: float) -> list[tuple[str, datetime | None]]:
    """Every page the sitemap lists (following an index, but not into sitemaps of archives,
    authors or static pages). Child sitemaps are always read: the listing must be complete."""
    pages: list[tuple[str, datetime | None]] = []
    pending, seen = [(location, 0)], {location}
    while pending:
        url, depth = pending.pop(0)
        kind, entries = parse_sitemap(url, fetch(url, timeout=timeout).body)
        for loc, lastmod in entries:
            if loc in seen or (kind == "sitemapindex" and _NOT_ARTICLES.search(loc)):
                continue
            seen.add(loc)
            if kind == "urlset":
                pages.append((loc, lastmod))
            elif depth < MAX_DEPTH:
                pending.append((loc, depth + 1))
            else:
                raise SourceError(loc, f"sitemap indexes nested more than {MAX_DEPTH} deep "
                                       "(a loop?)")
    return pages


def _unchanged(loc: str, lastmod: datetime | None, since: datetime | None,
               known: Callable[[str], bool] | None) -> bool:
    """Incremental syncs skip pages that have not changed since; without a ``lastmod``, a page
    already in the catalogue is not refetched (a full sync refreshes it)."""
    if since is None:
        return False
    if lastmod is not None:
        return lastmod < since
    with contextlib.suppress(InvalidURL):
        return known is not None and known(normalize_url(loc))
    return False


def fetch_sitemap(location: str, *, since: datetime | None = None,
                  timeout: float = DEFAULT_TIMEOUT,
                  known: Callable[[str], bool] | None = None) -> Fetched:
    """Records for the sitemap's article pages; pages gone (404/410) are skipped, other failures
    raise. The listing (every URL, unchanged ones too) is complete, for withdrawals."""
    out = Fetched(hosts={host_of(location)} - {""}, complete=True)
    for loc, lastmod in _page_entries(location, timeout):
        with contextlib.suppress(InvalidURL):
            out.listed.add(normalize_url(loc))
        if _unchanged(loc, lastmod, since, known):
            out.not_modified += 1
            continue
        try:
            response = fetch(loc, timeout=timeout, accept="text/html")
        except SourceError as exc:
            if exc.status not in _GONE:
                raise
            out.skipped.append((loc, exc.reason))
            continue
        html = response.text()
        why = not_an_article(loc, read_head(html))
        if why:
            out.skipped.append((loc, why))
            continue
        record = page_to_record(loc, html, lastmod)
        out.hosts.add(host_of(record["id"]))
        out.listed.add(str(record["id"]))
        out.records.append((loc, record))
    return out
