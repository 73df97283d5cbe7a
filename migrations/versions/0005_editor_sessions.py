"""editor sessions kept on the server (issue #17, item 8)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editor_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_editor_sessions_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_editor_sessions_token_hash")),
    )
    with op.batch_alter_table("editor_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_editor_sessions_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("editor_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_editor_sessions_user_id")
    op.drop_table("editor_sessions")
