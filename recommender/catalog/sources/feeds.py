"""RSS 2.0 and Atom feeds into article records, parsed by feedparser.

feedparser smooths over the dialects (guid vs id, description vs summary, content:encoded vs
content) but is lenient about broken XML; a feed that is not well-formed is refused here instead,
because a half-parsed feed silently drops articles.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser

from recommender.catalog import text as textutil
from recommender.catalog.sources.http import DEFAULT_TIMEOUT, Fetched, SourceError, fetch

DEK_LIMIT = 300
_EMAIL_NAME = re.compile(r"^\S+@\S+\s+\((?P<name>[^()]+)\)$")
_SENTENCE = re.compile(r"^(.+?[.!?][\"'”’)]*)(?:\s|$)")
# feedparser flags these as "bozo" although the document parsed completely.
_HTML = re.compile(rb"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)
_PROTECTED_EXCERPT = "There is no excerpt because this is a protected post."
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def short_dek(value: str | None) -> str:
    """The first sentence of a summary, or its first 300 characters cut at a word; shortcodes,
    "[…]" and "Continue reading" tails never reach it."""
    text = textutil.dek(value, limit=100_000)
    match = _SENTENCE.match(text)
    if match and len(match.group(1)) <= DEK_LIMIT:
        return match.group(1)
    if len(text) <= DEK_LIMIT:
        return text
    return text[:DEK_LIMIT].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _protected(summary: str, body: str) -> bool:
    """WordPress's feed of a password-protected post: the password form, or its stock excerpt."""
    return "post-password-form" in body or _PROTECTED_EXCERPT in summary


def _datetime(parsed: time.struct_time | None) -> str | None:
    if not parsed:
        return None
    return datetime(*parsed[:6], tzinfo=UTC).isoformat()


def _image(entry: Any) -> str | None:
    for item in entry.get("media_thumbnail") or []:
        if item.get("url"):
            return str(item["url"])
    for item in entry.get("media_content") or []:
        if item.get("url") and item.get("medium", "image") == "image":
            return str(item["url"])
    for item in entry.get("enclosures") or []:
        if item.get("href") and str(item.get("type", "")).startswith("image/"):
            return str(item["href"])
    return None


def _authors(entry: Any) -> list[str]:
    """Names only: RSS <author> is "email (Name)", which feedparser mis-splits for long TLDs."""
    raw = str(entry.get("author") or "").strip()
    match = _EMAIL_NAME.match(raw)
    if match:
        return [match["name"].strip()]
    names = [str(a["name"]) for a in entry.get("authors") or [] if a.get("name")]
    return [n for n in names or [raw] if n and "@" not in n]


def entry_to_record(entry: Any, language: str = "") -> dict[str, Any]:
    """One feed entry as a plain article record (validation happens in parse_article)."""
    contents = entry.get("content") or []
    summary = entry.get("summary") or ""
    authors = _authors(entry)
    published = _datetime(entry.get("published_parsed"))
    updated = _datetime(dict.get(entry, "updated_parsed"))  # not feedparser's deprecated fallback
    body = contents[0].get("value") if contents else summary
    return {
        "status": "unpublished" if _protected(summary, body or "") else "published",
        "id": entry.get("id") or entry.get("link"),
        "url": entry.get("link"),
        "title": entry.get("title"),
        "dek": short_dek(summary),
        "body": textutil.strip_shortcodes(body or ""),
        "authors": authors,
        "tags": [t.get("term") for t in entry.get("tags") or [] if t.get("term")],
        "language": language,
        "published_at": published or updated,
        "updated_at": updated,
        "image": _image(entry),
    }


def parse_feed(location: str, body: bytes) -> Any:
    """Parse RSS/Atom bytes, refusing documents that are not well-formed feeds."""
    parsed = feedparser.parse(body, response_headers={"content-location": location})
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, _HARMLESS):
        if isinstance(problem, SAXParseException):
            problem = (f"{problem.getMessage()} at line {problem.getLineNumber()} "
                       f"column {problem.getColumnNumber()}")
        raise SourceError(location, f"malformed feed: {problem}")
    if not parsed.get("version"):
        raise SourceError(location, "malformed feed: not an RSS or Atom document")
    return parsed


def fetch_feed(location: str, *, since: datetime | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> Fetched:
    """All entries of one feed; with ``since``, entries last changed before it are left out."""
    response = fetch(location, timeout=timeout,
                     accept="application/rss+xml, application/atom+xml, application/xml;q=0.9")
    if _HTML.match(response.body[:1000]):
        raise SourceError(location, "not an RSS or Atom document: the server sent an HTML page "
                                    "(a WordPress site's feed is at /feed/)")
    parsed = parse_feed(location, response.body)
    language = str(parsed.feed.get("language") or "").split("-")[0]
    out = Fetched()
    for number, entry in enumerate(parsed.entries, start=1):
        record = entry_to_record(entry, language)
        changed = record["updated_at"] or record["published_at"]
        if since is not None and changed and datetime.fromisoformat(changed) < since:
            out.not_modified += 1
            continue
        out.records.append((f"{location} entry {number}", record))
    return out
