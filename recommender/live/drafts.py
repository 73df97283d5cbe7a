"""Validating a draft (from the editors' form or a CMS's JSON) before it is ranked.

Both edges accept the same fields with the same limits, so the page and ``POST /api/v1/preview``
can never disagree about what a valid draft is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from recommender.catalog.validation import character_problem
from recommender.live.recommender import Draft

CONTENT_TYPES = ("news", "analysis", "opinion", "review", "evergreen")
LIMITS = {"title": 1000, "dek": 2000, "body": 1_000_000, "section": 255, "content_type": 32,
          "language": 16}
MAX_LIST = 50
_TYPE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
FIELDS = frozenset({*LIMITS, "tags", "authors", "k"})


class DraftError(ValueError):
    """An invalid draft; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _string(data: Mapping[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise DraftError(name, f"{name} must be a string")
    if len(value) > LIMITS[name]:
        raise DraftError(name, f"{name} is longer than {LIMITS[name]} characters")
    if "\x00" in value:
        raise DraftError(name, f"{name} must not contain NUL characters")
    _check_characters(name, value)
    return value.strip()


def _check_characters(name: str, value: Any) -> None:
    """The catalogue's rule (``validation.character_problem``): a lone surrogate is no text."""
    problem = character_problem(name, value)
    if problem is not None:
        raise DraftError(name, f"{name} {problem}")


def _strings(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None or value == "":
        value = []
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DraftError(name, f"{name} must be a list of strings")
    if len(value) > MAX_LIST or any(len(v) > 255 or "\x00" in v for v in value):
        raise DraftError(name, f"{name}: at most {MAX_LIST} entries of up to 255 characters")
    _check_characters(name, value)
    return tuple(v.strip() for v in value if v.strip())


def parse_draft(data: Mapping[str, Any]) -> Draft:
    """A ``Draft`` from a mapping of fields, or DraftError naming the first bad one."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise DraftError(unknown[0], f"unknown field {unknown[0]!r}")
    title, body = _string(data, "title"), _string(data, "body")
    if not (title or body):
        raise DraftError("title", "a draft needs a title or a body")
    content_type = _string(data, "content_type", "news") or "news"
    if not _TYPE.fullmatch(content_type):
        raise DraftError("content_type", "content_type must be a lower-case word such as "
                                         f"{', '.join(CONTENT_TYPES)}")
    return Draft(title=title, body=body, dek=_string(data, "dek"), tags=_strings(data, "tags"),
                 authors=_strings(data, "authors"), section=_string(data, "section"),
                 content_type=content_type, language=_string(data, "language", "en") or "en")
