"""What the box did: impressions, clicks, CTR overall, by position and by ranking arm.

``impressions`` counts views of the box (one per page view that saw it), ``clicks`` the teasers
followed, so ``ctr`` is clicks per box view; ``ctr_by_position`` divides a position's clicks by
that position's impressions; ``click_share`` is the share of views with at least one click.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from recommender.feedback.counts import Window, box_counts, item_counts


def ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def summary(session: Session, days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """The ``related-reading stats --json`` document for the last ``days`` days."""
    window = Window.last(session, days, now)
    box = box_counts(session, window).get((), [0, 0])
    clicks = sum(c for _, c in item_counts(session, window).values())
    by_position = {
        str(position): {"impressions": i, "clicks": c, "ctr": ratio(c, i)}
        for (position,), (i, c) in sorted(item_counts(session, window, ("position",)).items())}
    arm_boxes = box_counts(session, window, ("arm",))
    arm_clicks = {key: c for key, (_, c) in item_counts(session, window, ("arm",)).items()}
    arms = {}
    for key in sorted(set(arm_boxes) | set(arm_clicks)):
        views, clicked = arm_boxes.get(key, [0, 0])
        arm_click = arm_clicks.get(key, 0)
        arms[key[0]] = {"impressions": views, "clicks": arm_click, "ctr": ratio(arm_click, views),
                        "click_share": ratio(clicked, views)}
    return {
        "days": days,
        "since": window.since.date().isoformat(),
        "impressions": box[0],
        "clicks": clicks,
        "ctr": ratio(clicks, box[0]),
        "ctr_by_position": {p: row["ctr"] for p, row in by_position.items()},
        "by_position": by_position,
        "click_share": ratio(box[1], box[0]),
        "arms": arms,
    }


def render_text(doc: dict[str, Any]) -> str:
    """The same figures as a short table for a terminal."""
    lines = [f"last {doc['days']} days (since {doc['since']}): {doc['impressions']} box views, "
             f"{doc['clicks']} clicks, CTR {doc['ctr']:.2%}, "
             f"{doc['click_share']:.2%} of views with a click"]
    if doc["by_position"]:
        lines.append("position  impressions  clicks     CTR")
        lines += [f"{p:>8}  {row['impressions']:>11}  {row['clicks']:>6}  {row['ctr']:>6.2%}"
                  for p, row in doc["by_position"].items()]
    if doc["arms"]:
        lines.append("arm                 views  clicks     CTR")
        lines += [f"{name:<16}  {row['impressions']:>7}  {row['clicks']:>6}  {row['ctr']:>6.2%}"
                  for name, row in doc["arms"].items()]
    return "\n".join(lines)
