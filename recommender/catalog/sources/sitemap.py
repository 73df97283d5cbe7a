"""Sitemaps (and sitemap indexes) plus the article pages they list into article records.

Sites without a feed or an API still publish a sitemap for search engines. Metadata comes from
what the page declares for them (JSON-LD NewsArticle, then Open Graph, then trafilatura's
heuristics), the body from trafilatura's main-text extraction; the id is the canonical URL, and
``lastmod`` lets an incremental sync skip pages that have not changed.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin
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
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and (a.get("property") or a.get("name")) and a.get("content"):
            self.meta.setdefault((a.get("property") or a["name"]).lower(), []).append(a["content"])
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split() and not self.canonical:
            self.canonical = a.get("href", "")
        elif tag == "html":
            self.language = a.get("lang", "").split("-")[0]
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


def page_to_record(location: str, html: str, lastmod: datetime | None = None) -> dict[str, Any]:
    """One article page as a plain record: JSON-LD first, then Open Graph, then trafilatura."""
    head = _HeadParser()
    head.feed(html)
    head.close()
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
    section = _names(ld.get("articleSection")) or [meta.get("article:section") or ""]
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


def _page_entries(location: str, since: datetime | None, timeout: float
                  ) -> tuple[list[tuple[str, datetime | None]], int]:
    """Every page listed by the sitemap (following an index); and how many were unchanged."""
    pages: list[tuple[str, datetime | None]] = []
    unchanged = 0
    pending, seen = [(location, 0)], {location}
    while pending:
        url, depth = pending.pop(0)
        kind, entries = parse_sitemap(url, fetch(url, timeout=timeout).body)
        for loc, lastmod in entries:
            if since is not None and lastmod is not None and lastmod < since:
                unchanged += 1 if kind == "urlset" else 0  # a whole child sitemap is skipped
            elif loc in seen:
                continue
            elif kind == "urlset":
                seen.add(loc)
                pages.append((loc, lastmod))
            elif depth < MAX_DEPTH:
                seen.add(loc)
                pending.append((loc, depth + 1))
    return pages, unchanged


def fetch_sitemap(location: str, *, since: datetime | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> Fetched:
    """Records for the sitemap's pages; pages gone (404/410) are skipped, other failures raise."""
    pages, unchanged = _page_entries(location, since, timeout)
    out = Fetched(not_modified=unchanged, id_prefix="http", hosts={host_of(location)})
    for loc, lastmod in pages:
        try:
            response = fetch(loc, timeout=timeout, accept="text/html")
        except SourceError as exc:
            if exc.status not in _GONE:
                raise
            out.skipped.append((loc, exc.reason))
            continue
        record = page_to_record(loc, response.text(), lastmod)
        out.hosts.add(host_of(record["id"]))
        out.records.append((loc, record))
    return out
