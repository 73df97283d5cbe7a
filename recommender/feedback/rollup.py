"""The nightly step: sum finished days of raw events into ``feedback_daily``, prune old raw rows.

Idempotent: every finished day still present in the raw table is recomputed from it (its rollup
rows replaced), so a run that failed half-way, or one run twice, leaves the same totals. Raw rows
are pruned only at midnight boundaries and only after their day is rolled up, which is what lets
``counts.Window`` split the two sources at the first raw day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, insert, select
from sqlalchemy.orm import Session

from recommender.feedback.counts import DIMENSIONS, Window, box_counts, item_counts, midnight
from recommender.storage.feedback_tables import FeedbackDaily, FeedbackEvent
from recommender.storage.schema import utcnow


@dataclass(frozen=True)
class RollupReport:
    days: int  # finished days (re)computed
    rows: int  # rollup rows written
    pruned: int  # raw event rows deleted

    def to_dict(self) -> dict[str, int]:
        return {"events_days_rolled_up": self.days, "events_rollup_rows": self.rows,
                "events_pruned": self.pruned}


def rollup_and_prune(session: Session, retention_days: int,
                     now: datetime | None = None) -> RollupReport:
    """Roll up every finished day, then drop raw rows older than ``retention_days``; commits."""
    today = midnight(now or utcnow())
    first = session.scalar(select(FeedbackEvent.at).order_by(FeedbackEvent.at).limit(1))
    days = rows = 0
    if first is not None and midnight(first) < today:
        start = midnight(first)
        days = (today - start).days
        window = Window(since=start, raw_from=start, days=days)
        items = item_counts(session, window, DIMENSIONS)
        boxes = box_counts(session, window, ("day", "page", "arm"))
        values = [_row(day, page, item, position, arm, counts)
                  for (day, page, item, position, arm), counts in items.items()
                  if day < today.date().isoformat()]
        values += [_row(day, page, None, 0, arm, counts)
                   for (day, page, arm), counts in boxes.items()
                   if day < today.date().isoformat()]
        session.execute(delete(FeedbackDaily).where(FeedbackDaily.day >= start,
                                                    FeedbackDaily.day < today))
        if values:
            session.execute(insert(FeedbackDaily), values)
        rows = len(values)
    cutoff = today - timedelta(days=retention_days)
    result = cast(CursorResult[Any],
                  session.execute(delete(FeedbackEvent).where(FeedbackEvent.at < cutoff)))
    pruned = result.rowcount
    session.commit()
    return RollupReport(days=days, rows=rows, pruned=int(pruned or 0))


def _row(day: str, page: int, item: int | None, position: int, arm: str,
         counts: list[int]) -> dict[str, object]:
    moment = datetime.fromisoformat(day).replace(tzinfo=utcnow().tzinfo)
    return {"day": moment, "page_id": page, "item_id": item, "position": position, "arm": arm,
            "impressions": counts[0], "clicks": counts[1]}
