"""What a valid article is: one incoming record checked, cleaned and named field by field.

Every source (files, feeds, sitemaps, the publish webhook) produces plain dicts; this module is the
one place that decides whether such a dict is an article, so every edge accepts and refuses the
same things. Checking a whole batch (duplicates, URLs taken) is ``catalog.validation``; storing is
``catalog.storing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from recommender.catalog import text as textutil
from recommender.catalog.urls import MAX_URL_LENGTH, InvalidURL, as_published, normalize_url
from recommender.storage.schema import STATUSES, utcnow

MAX_BODY_CHARS = 1_000_000
# The fields of an incoming record; an InvalidArticle's message starts with one of them.
ARTICLE_FIELDS = ("id", "url", "title", "dek", "body", "authors", "tags", "section",
                  "content_type", "language", "published_at", "updated_at", "status", "image")
_TYPE_ALIASES = {"book review": "review", "book-review": "review", "book talk": "review",
                 "explainer": "evergreen", "evergreen explainer": "evergreen"}


class InvalidArticle(ValueError):
    """An incoming record is not a valid article; the message says which field and why.

    The message reads ``"<field>: <what is wrong>"`` when one field is at fault (``field`` gives
    it back), or just what is wrong when the record as a whole is.
    """

    @property
    def field(self) -> str | None:
        name, sep, _ = str(self).partition(": ")
        return name if sep and name in ARTICLE_FIELDS else None

    @property
    def reason(self) -> str:
        """The message without the field name."""
        text = str(self)
        return text.partition(": ")[2] if self.field is not None else text


@dataclass(frozen=True)
class ArticleInput:
    """A validated, cleaned article ready to upsert."""

    external_id: str
    url: str
    title: str
    dek: str
    body: str
    authors: list[str]
    tags: list[str]
    section: str
    content_type: str
    language: str
    status: str
    published_at: datetime | None
    updated_at: datetime | None
    image: str | None
    # False when the record had no published_at and "now" was filled in: re-sending it must not
    # move an already-live article's date (or every repeat would be an update).
    dated: bool = True
    # the link exactly as the source published it (trailing slash kept); ``url`` is for matching
    canonical_url: str | None = None

    @property
    def content_hash(self) -> str:
        return textutil.content_hash(self.title, self.dek, self.body)


def parse_datetime(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidArticle(f"{name}: expected an ISO 8601 date, got {text[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _string_list(value: Any, name: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = value.replace("|", ";").split(";")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise InvalidArticle(f"{name}: expected a list of strings")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise InvalidArticle(f"{name}: expected a list of strings")
        cleaned = textutil.clean_line(str(item))[:200]
        if cleaned and cleaned not in out:
            out.append(cleaned)
    return out


def _optional_str(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidArticle(f"{name}: expected a string")
    return textutil.clean_line(str(value))[:limit]


def parse_article(record: Mapping[str, Any], now: datetime | None = None) -> ArticleInput:
    """Validate and clean one record, or raise :class:`InvalidArticle` naming the field."""
    if not isinstance(record, Mapping):
        raise InvalidArticle("expected an object with id, url and title")
    moment = now or utcnow()
    raw_id = record.get("id")
    if isinstance(raw_id, float) and raw_id.is_integer() and abs(raw_id) <= 2**53:
        raw_id = int(raw_id)  # JSON's 42.0 is the integer 42 (as JSON Schema counts it)
    if (raw_id is None or not isinstance(raw_id, str | int) or isinstance(raw_id, bool)
            or not str(raw_id).strip()):
        raise InvalidArticle("id: required (a non-empty string)")
    external_id = str(raw_id).strip()
    if len(external_id) > 255:
        raise InvalidArticle("id: longer than 255 characters")
    try:
        url = normalize_url(str(record.get("url") or ""))
    except InvalidURL as exc:
        raise InvalidArticle(f"url: {exc}") from None
    if len(url) > MAX_URL_LENGTH:  # normalising may lengthen it ("?a" is stored as "?a=")
        raise InvalidArticle(f"url: longer than {MAX_URL_LENGTH} characters once normalised")
    title = _optional_str(record.get("title"), "title", 1000)
    if not title:
        raise InvalidArticle("title: required (non-empty text)")
    raw_body = record.get("body")
    if raw_body is not None and not isinstance(raw_body, str | bytes):
        raise InvalidArticle("body: expected a string")
    body = textutil.clean_text(raw_body)
    if len(body) > MAX_BODY_CHARS:
        raise InvalidArticle(f"body: longer than {MAX_BODY_CHARS} characters")
    raw_status = record.get("status")
    status = (raw_status.strip().lower() if isinstance(raw_status, str)
              else "published" if raw_status is None else repr(raw_status))
    if status not in STATUSES:
        raise InvalidArticle(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
    published_at = parse_datetime(record.get("published_at"), "published_at")
    dated = published_at is not None
    if status == "published" and published_at is None:
        published_at = moment  # published with no date: live from now on
    if status == "published" and published_at is not None and published_at > moment:
        status = "scheduled"
    if status == "scheduled" and published_at is None:
        raise InvalidArticle("published_at: required for a scheduled article")
    content_type = _optional_str(record.get("content_type"), "content_type", 32).lower() or "news"
    image = _optional_str(record.get("image"), "image", 2048) or None
    return ArticleInput(
        external_id=external_id,
        url=url,
        title=title,
        dek=_optional_str(record.get("dek"), "dek", 2000),
        body=body,
        authors=_string_list(record.get("authors"), "authors"),
        tags=[t.lower() for t in _string_list(record.get("tags"), "tags")],
        section=_optional_str(record.get("section"), "section", 255),
        content_type=_TYPE_ALIASES.get(content_type, content_type),
        language=(_optional_str(record.get("language"), "language", 16).lower() or "en"),
        status=status,
        published_at=published_at,
        updated_at=parse_datetime(record.get("updated_at"), "updated_at"),
        image=image,
        dated=dated,
        canonical_url=as_published(record.get("url"), url),
    )
