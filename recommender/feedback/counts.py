"""Counting events over a window of days, from the raw rows and the daily rollup as one source.

Raw events are authoritative while they are kept; the rollup answers for the days already pruned.
Pruning cuts at midnight, so the first raw event's day splits the window cleanly: days before it
come from ``feedback_daily``, that day and later from ``feedback_events``, and no day is counted
twice (or dropped) whether or not the nightly rollup has run yet.

Two levels, as stored: the *box* (position 0: a view of the box, and whether that view had a
click) and the *items* (positions 1..n: each teaser's impressions and clicks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from recommender.storage.feedback_tables import FeedbackDaily, FeedbackEvent
from recommender.storage.schema import utcnow

Key = tuple[Any, ...]
Counts = dict[Key, list[int]]  # key -> [impressions, clicks]
DIMENSIONS = ("day", "page", "item", "position", "arm")


def midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Window:
    """The last ``days`` calendar days (UTC), today included, split at ``raw_from``."""

    since: datetime
    raw_from: datetime  # raw rows answer from here on, the rollup before it
    days: int

    @classmethod
    def last(cls, session: Session, days: int, now: datetime | None = None) -> Window:
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        since = midnight(now or utcnow()) - timedelta(days=days - 1)
        first = session.scalar(select(func.min(FeedbackEvent.at)))
        raw_from = since if first is None else max(since, midnight(first))
        return cls(since=since, raw_from=raw_from, days=days)


def _day(value: Any) -> str:
    """A day from either table, as YYYY-MM-DD (SQLite's date() gives text, PostgreSQL a date)."""
    return value.date().isoformat() if isinstance(value, datetime) else str(value)[:10]


def _columns(table: Any, dims: Sequence[str]) -> list[Any]:
    names = {"day": func.date(table.at) if table is FeedbackEvent else table.day,
             "page": table.page_id, "item": table.item_id, "position": table.position,
             "arm": table.arm}
    unknown = set(dims) - set(names)
    if unknown:
        raise ValueError(f"unknown dimension(s): {sorted(unknown)}")
    return [names[d] for d in dims]


def _add(out: Counts, dims: Sequence[str], rows: Any) -> None:
    for row in rows:
        key = tuple(_day(v) if d == "day" else v for d, v in zip(dims, row[:-2], strict=True))
        slot = out.setdefault(key, [0, 0])
        slot[0] += int(row[-2] or 0)
        slot[1] += int(row[-1] or 0)


def _rolled(session: Session, window: Window, dims: Sequence[str], *, box: bool) -> Any:
    if window.raw_from <= window.since:
        return []
    cols = _columns(FeedbackDaily, dims)
    level = FeedbackDaily.position == 0 if box else FeedbackDaily.position > 0
    return session.execute(
        select(*cols, func.sum(FeedbackDaily.impressions), func.sum(FeedbackDaily.clicks))
        .where(FeedbackDaily.day >= window.since, FeedbackDaily.day < window.raw_from, level)
        .group_by(*cols)).all()


def box_counts(session: Session, window: Window, dims: Sequence[str] = ()) -> Counts:
    """Views of the box and views with a click, by any of day, page, arm."""
    if set(dims) & {"item", "position"}:
        raise ValueError("the box level has no item or position")
    out: Counts = {}
    _add(out, dims, _rolled(session, window, dims, box=True))
    cols = _columns(FeedbackEvent, dims)
    recent = FeedbackEvent.at >= window.raw_from
    views = session.execute(
        select(*cols, func.count(), func.sum(0))
        .where(recent, FeedbackEvent.kind == "impression", FeedbackEvent.position == 0)
        .group_by(*cols)).all()
    clicked = session.execute(
        select(*cols, func.sum(0), func.count(distinct(FeedbackEvent.token)))
        .where(recent, FeedbackEvent.kind == "click").group_by(*cols)).all()
    _add(out, dims, views)
    _add(out, dims, clicked)
    return out


def item_counts(session: Session, window: Window, dims: Sequence[str] = ()) -> Counts:
    """Teasers' impressions and clicks, by any of day, page, item, position, arm."""
    out: Counts = {}
    _add(out, dims, _rolled(session, window, dims, box=False))
    cols = _columns(FeedbackEvent, dims)
    is_click = FeedbackEvent.kind == "click"
    _add(out, dims, session.execute(
        select(*cols, func.sum(case((is_click, 0), else_=1)), func.sum(case((is_click, 1), else_=0)))
        .where(FeedbackEvent.at >= window.raw_from, FeedbackEvent.position > 0)
        .group_by(*cols)).all())
    return out
