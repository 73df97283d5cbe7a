"""Parsing the readers' query parameters strictly, so bad input is a 400 naming the parameter.

Everything a browser or a bot can put in a query string reaches these functions; anything they
accept is safe to use as a memo key and in SQL on SQLite and PostgreSQL (which rejects NUL).
"""

from __future__ import annotations

import re

from flask import request

from recommender.catalog.urls import InvalidURL, normalize_url
from web.errors import ApiError

DEFAULT_K = 3
MAX_ID_LENGTH = 255
_DIGITS = re.compile(r"[0-9]{1,6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def k_param(maximum: int) -> int:
    """``k``: how many items, 1 to the precomputed list's length (default 3)."""
    raw = request.args.get("k")
    if raw is None or raw == "":
        return min(DEFAULT_K, maximum)
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise ApiError(400, f"k must be an integer from 1 to {maximum}", "k")
    return int(raw)


def url_param() -> str:
    """``url``: the page's URL, returned normalised (tracking parameters and fragment dropped)."""
    raw = request.args.get("url")
    if raw is None or not raw.strip():
        raise ApiError(400, "url is required: the article page's absolute URL", "url")
    if _CONTROL.search(raw):
        raise ApiError(400, "url must not contain control characters", "url")
    try:
        return normalize_url(raw)
    except InvalidURL as exc:
        raise ApiError(400, f"url: {exc}", "url") from None


def article_id(raw: str) -> str:
    """An article id from the path: the CMS's id, as stored."""
    if not raw or len(raw) > MAX_ID_LENGTH:
        raise ApiError(400, f"id must be 1 to {MAX_ID_LENGTH} characters", "id")
    if _CONTROL.search(raw):
        raise ApiError(400, "id must not contain control characters", "id")
    return raw
