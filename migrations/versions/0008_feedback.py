"""readers' feedback: events, their daily rollup, experiments (#16)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:26:52.441580
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from recommender.storage.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _article_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["articles.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_{column}_articles"))


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("policy_a_id", sa.Integer(), nullable=False),
        sa.Column("policy_b_id", sa.Integer(), nullable=False),
        sa.Column("split", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started", UTCDateTime(), nullable=False),
        sa.Column("ended", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.CheckConstraint("status IN ('running', 'ended')", name=op.f("ck_experiments_status")),
        sa.ForeignKeyConstraint(["policy_a_id"], ["ranking_policies.id"],
                                name=op.f("fk_experiments_policy_a_id_ranking_policies")),
        sa.ForeignKeyConstraint(["policy_b_id"], ["ranking_policies.id"],
                                name=op.f("fk_experiments_policy_b_id_ranking_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("name", name=op.f("uq_experiments_name")),
    )
    op.create_table(
        "feedback_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", UTCDateTime(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(length=64), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        _article_fk("item_id", "feedback_daily"),
        _article_fk("page_id", "feedback_daily"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_daily")),
    )
    op.create_index("ix_feedback_daily_day", "feedback_daily", ["day"], unique=False)
    op.create_table(
        "feedback_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('impression', 'click')", name=op.f("ck_feedback_events_kind")),
        _article_fk("item_id", "feedback_events"),
        _article_fk("page_id", "feedback_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_events")),
        sa.UniqueConstraint("kind", "token", "position",
                            name="uq_feedback_events_kind_token_position"),
    )
    op.create_index("ix_feedback_events_at", "feedback_events", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_feedback_events_at", table_name="feedback_events")
    op.drop_table("feedback_events")
    op.drop_index("ix_feedback_daily_day", table_name="feedback_daily")
    op.drop_table("feedback_daily")
    op.drop_table("experiments")
