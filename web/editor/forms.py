"""Reading the editors' form fields strictly: a bad value is a message, never a 500.

``datetime-local`` inputs carry no time zone; the pages label them UTC and they are read as UTC,
so an expiry means the same moment whichever editor (or server) set it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

MAX_TEXT = 2000


class FormError(ValueError):
    """A field the editor must correct; the message names it."""


def text(name: str, limit: int = MAX_TEXT) -> str:
    return request.form.get(name, "").strip()[:limit]


def expiry(name: str = "expires_at") -> datetime | None:
    raw = text(name, 40)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise FormError(f"{name.replace('_', ' ')}: expected a date and time, got {raw!r}") \
            from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def integer(name: str, low: int, high: int) -> int:
    raw = text(name, 20)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise FormError(f"{name}: expected a whole number from {low} to {high}")
    return int(raw)


def number(name: str, default: float) -> float:
    raw = text(name, 40)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise FormError(f"{name.replace('_', ' ')}: expected a number, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FormError(f"{name.replace('_', ' ')}: expected a finite number")
    return value
