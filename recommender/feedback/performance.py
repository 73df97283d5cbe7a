"""The editors' performance figures: what the box did, by position, article, section and day.

Everything comes from ``counts`` (raw events and the daily rollup as one source). Exposure
concentration says whether a few articles take the box over: the share of teaser impressions
taken by the top 1% of articles, and the Gini coefficient of impressions over every live article
(0 = all shown equally, 1 = one article takes everything). Coverage is the share of the live
catalogue shown at least once that day.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.live import live_clause
from recommender.feedback.counts import Window, box_counts, item_counts
from recommender.feedback.stats import ratio
from recommender.storage.schema import Article, utcnow


@dataclass(frozen=True)
class Ranked:
    """One article's (or section's) figures in a top list."""

    label: str
    ref: str  # the CMS id, "" for a section
    views: int
    clicks: int

    @property
    def ctr(self) -> float:
        return ratio(self.clicks, self.views)


@dataclass
class Performance:
    days: int
    views: int = 0
    clicks: int = 0
    by_position: list[tuple[int, int, int]] = field(default_factory=list)  # position, impr, clicks
    senders: list[Ranked] = field(default_factory=list)
    receivers: list[Ranked] = field(default_factory=list)
    sections: list[Ranked] = field(default_factory=list)
    top_share: float = 0.0  # share of teaser impressions taken by the top 1% of live articles
    gini: float = 0.0
    coverage: list[tuple[str, float]] = field(default_factory=list)  # day, share of live shown

    @property
    def ctr(self) -> float:
        return ratio(self.clicks, self.views)


def gini(values: list[int]) -> float:
    """Gini coefficient of non-negative values (0 = equal; empty or all-zero = 0)."""
    ordered = sorted(values)
    total = sum(ordered)
    n = len(ordered)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return round((2 * weighted) / (n * total) - (n + 1) / n, 4)


def top_share(values: list[int], share: float = 0.01) -> float:
    """The part of the total taken by the top ``share`` of values (at least one)."""
    total = sum(values)
    if not total:
        return 0.0
    top = max(1, math.ceil(len(values) * share))
    return round(sum(sorted(values, reverse=True)[:top]) / total, 4)


def report(session: Session, days: int = 30, now: datetime | None = None,
           top: int = 10) -> Performance:
    now = now or utcnow()
    window = Window.last(session, days, now)
    out = Performance(days=days)
    views, _ = box_counts(session, window).get((), [0, 0])
    out.views = views
    out.by_position = [(p, i, c) for (p,), (i, c)
                       in sorted(item_counts(session, window, ("position",)).items())]
    out.clicks = sum(c for _, _, c in out.by_position)
    live = set(session.scalars(select(Article.id).where(live_clause(now))))
    every = {a_id: (title, ext, section) for a_id, title, ext, section in session.execute(
        select(Article.id, Article.title, Article.external_id, Article.section))}
    page_views = box_counts(session, window, ("page",))
    page_clicks = item_counts(session, window, ("page",))
    item_figures = item_counts(session, window, ("item",))
    out.senders = _top([(every[p], page_views.get((p,), [0, 0])[0], c)
                        for (p,), (_, c) in page_clicks.items() if p in every and c], top)
    out.receivers = _top([(every[i], n, c) for (i,), (n, c) in item_figures.items()
                          if i in every and c], top)
    sections: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (p,), (seen, _) in page_views.items():
        if p in every:
            sections[every[p][2] or "(none)"][0] += seen
    for (p,), (_, c) in page_clicks.items():
        if p in every:
            sections[every[p][2] or "(none)"][1] += c
    out.sections = sorted((Ranked(name, "", v, c) for name, (v, c) in sections.items()),
                          key=lambda r: (-r.clicks, -r.views, r.label))
    shown = [item_figures.get((a,), [0, 0])[0] for a in live]
    out.top_share, out.gini = top_share(shown), gini(shown)
    out.coverage = _coverage(session, window, now, max(1, len(live)))
    return out


def _top(rows: list[tuple[tuple[str, str, str], int, int]], top: int) -> list[Ranked]:
    ranked = [Ranked(meta[0], meta[1], v, c) for meta, v, c in rows]
    return sorted(ranked, key=lambda r: (-r.clicks, -r.views, r.label))[:top]


def _coverage(session: Session, window: Window, now: datetime,
              live: int) -> list[tuple[str, float]]:
    per_day: dict[str, set[Any]] = defaultdict(set)
    for (day, item), (seen, _) in item_counts(session, window, ("day", "item")).items():
        if seen:
            per_day[day].add(item)
    days = [(window.since + timedelta(days=d)).date().isoformat() for d in range(window.days)]
    return [(day, round(len(per_day.get(day, ())) / live, 4)) for day in days
            if window.since + timedelta(days=days.index(day)) <= now]

