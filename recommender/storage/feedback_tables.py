"""The tables of readers' feedback (#16): widget events, their daily rollup, experiments.

Kept beside ``schema`` rather than in it (which would pass the 300-line limit) but on the same
``Base`` and naming convention; ``recommender.storage`` imports this module, so the tables are in
``Base.metadata`` whenever any model is (Alembic's env, ``create_all``, the tests).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recommender.storage.schema import Base, utcnow

EVENT_KINDS = ("impression", "click")
EXPERIMENT_STATUSES = ("running", "ended")


class FeedbackEvent(Base):
    """One teaser's impression or click (position 0 of an impression is the box as a whole).

    No cookie, address or user id: ``token`` is a random value the widget draws for one view of
    one box, so a replayed batch counts once (the unique key) and nothing links two views.
    """

    __tablename__ = "feedback_events"
    __table_args__ = (
        CheckConstraint("kind IN ('impression', 'click')", name="kind"),
        UniqueConstraint("kind", "token", "position", name="uq_feedback_events_kind_token_position"),
        Index("ix_feedback_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(64))
    page_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    arm: Mapped[str] = mapped_column(String(64), default="default")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackDaily(Base):
    """Raw events summed per day, page, item, position and arm; kept after the raw rows go.

    Position 0 is the box itself: ``impressions`` counts views of it, ``clicks`` the views with
    at least one related-reading click (the share of page views that followed a teaser).
    """

    __tablename__ = "feedback_daily"
    __table_args__ = (Index("ix_feedback_daily_day", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[datetime] = mapped_column()  # midnight UTC
    page_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    arm: Mapped[str] = mapped_column(String(64), default="default")
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class Experiment(Base):
    """Two saved ranking policies compared on live traffic, pages split between them by hash."""

    __tablename__ = "experiments"
    __table_args__ = (CheckConstraint("status IN ('running', 'ended')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    policy_a_id: Mapped[int] = mapped_column(ForeignKey("ranking_policies.id"))
    policy_b_id: Mapped[int] = mapped_column(ForeignKey("ranking_policies.id"))
    split: Mapped[float] = mapped_column(Float, default=0.5)  # share of pages served arm b
    status: Mapped[str] = mapped_column(String(16), default="running")
    started: Mapped[datetime] = mapped_column(default=utcnow)
    ended: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)
