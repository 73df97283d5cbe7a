"""embedding backend (#14): which encoder backend made each cached vector

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:45:00

Every vector cached before this revision was made by sentence-transformers on torch, hence the
server default: existing rows stay valid for the torch backend and are re-embedded (never mixed)
when a deployment switches to onnx-int8.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("embeddings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backend", sa.String(length=32), server_default="torch",
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("embeddings", schema=None) as batch_op:
        batch_op.drop_column("backend")
