"""site identity: articles are identified by (site, source_id); canonical URL as published

Two WordPress sites both have a post 12 ("wp-12"); keyed by the source's id alone, the second
overwrote the first. Each article now belongs to a site (the host of its URL) and carries the id
its source gave it, unique per site. ``external_id`` stays the public id the API and the widget
use, so existing ids and URLs do not change: every existing row gets its site from its URL and
its source id from its external id. ``canonical_url`` keeps the link exactly as the site
publishes it (trailing slash and all), while ``url`` stays the normalised form used for lookups.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 16:40:00.000000
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("url", sa.String),
                     sa.column("external_id", sa.String), sa.column("site", sa.String),
                     sa.column("source_id", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=260), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("source_id", sa.String(length=255), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("canonical_url", sa.String(length=2048), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_articles.c.id, _articles.c.url, _articles.c.external_id)).all()
    for start in range(0, len(rows), 1000):
        bind.execute(_articles.update().where(_articles.c.id == sa.bindparam("row_id")).values(
            site=sa.bindparam("row_site"), source_id=sa.bindparam("row_source")),
            [{"row_id": r.id, "row_site": urlsplit(r.url or "").netloc.lower(),
              "row_source": r.external_id} for r in rows[start:start + 1000]])
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.alter_column("site", server_default=None)
        batch_op.alter_column("source_id", server_default=None)
        batch_op.create_index(batch_op.f("ix_articles_site"), ["site"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_articles_site_source_id"),
                                          ["site", "source_id"])


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_articles_site_source_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_articles_site"))
        batch_op.drop_column("canonical_url")
        batch_op.drop_column("source_id")
        batch_op.drop_column("site")
