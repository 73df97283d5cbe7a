"""The SQL schema: articles, their embeddings, precomputed lists, curation, audit and builds.

Plain SQLAlchemy 2.0 declarative models (no Flask extension) so the library, the CLI, the nightly
job and the web app share them; a naming convention keeps constraint names stable for Alembic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUSES = ("published", "draft", "scheduled", "unpublished")
# The statuses whose articles readers see once their published_at has come.
LIVE_STATUSES = ("published", "scheduled")
CURATION_KINDS = ("pin", "block")
BUILD_STATUSES = ("building", "ready", "failed")


def utcnow() -> datetime:
    return datetime.now(UTC)


def live_at(status: str, published_at: datetime | None, now: datetime) -> bool:
    """A reader may see an article with this status and date at ``now``.

    "Live" is defined once, on plain values, here at the lowest layer, so that the ORM's
    ``Article.is_live`` can delegate to it (storage imports nothing above it). The rest of the
    library uses ``recommender.catalog.live``, which builds the SQL clause from the same
    ``LIVE_STATUSES`` and is tested to agree with this predicate on SQLite and PostgreSQL.
    """
    return status in LIVE_STATUSES and published_at is not None and published_at <= now


def site_of(url: str) -> str:
    """The site an article belongs to: the host[:port] of its (normalised, lowercase) URL."""
    return urlsplit(url or "").netloc.lower()


def _site_of_row(context: Any) -> str:
    return site_of(str(context.get_current_parameters().get("url") or ""))


def _source_id_of_row(context: Any) -> str:
    return str(context.get_current_parameters().get("external_id") or "")


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite has no time zones), always returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware (UTC) datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


class Article(Base):
    """One article as the CMS knows it; ``external_id`` is the CMS's id, the upsert key."""

    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint(
            "status IN ('published', 'draft', 'scheduled', 'unpublished')", name="status"
        ),
        Index("ix_articles_status_published_at", "status", "published_at"),
        Index("ix_articles_section_published_at", "section", "published_at"),
        UniqueConstraint("site", "source_id", name="uq_articles_site_source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), unique=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(Text)
    dek: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    section: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(32), default="news")
    language: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[str] = mapped_column(String(16), default="published")
    published_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime | None] = mapped_column()
    image: Mapped[str | None] = mapped_column(String(2048))
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # indexed: "what changed since the build" is asked by every live preview and nightly run
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # --- #13 site identity: an article is (site, source_id); external_id stays the public id
    site: Mapped[str] = mapped_column(String(260), default=_site_of_row, index=True)  # host[:port]: 253 + 6
    source_id: Mapped[str] = mapped_column(String(255), default=_source_id_of_row)
    canonical_url: Mapped[str | None] = mapped_column(String(2048))  # as published, for links

    def is_live(self, now: datetime | None = None) -> bool:
        """Readers may see it now (see :func:`live_at`, the one definition)."""
        return live_at(self.status, self.published_at, now or utcnow())


class Embedding(Base):
    """The cached vector of one article's text under one model."""

    __tablename__ = "embeddings"
    __table_args__ = (UniqueConstraint("article_id", "model_id", name="uq_embeddings_article_model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    model_id: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the delta query
    # --- #14: which encoder backend made the vector (torch, onnx-int8): never mixed in an index
    backend: Mapped[str] = mapped_column(String(32), default="torch", server_default="torch")


class RelatedItem(Base):
    """One row of an article's precomputed list, with the signals that placed it there."""

    __tablename__ = "related"
    __table_args__ = (
        UniqueConstraint("article_id", "position", name="uq_related_article_position"),
        UniqueConstraint("article_id", "target_id", name="uq_related_article_target"),
        Index("ix_related_target_id", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    signals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    build_id: Mapped[str] = mapped_column(String(64))
    computed: Mapped[datetime] = mapped_column(default=utcnow)


class Curation(Base):
    """An editor's pin or block; ``article_id`` NULL means site-wide (blocks only)."""

    __tablename__ = "curations"
    __table_args__ = (
        CheckConstraint("kind IN ('pin', 'block')", name="kind"),
        CheckConstraint("kind = 'block' OR (position IS NOT NULL AND position >= 1)",
                        name="pin_position"),
        CheckConstraint("kind = 'block' OR article_id IS NOT NULL", name="pin_article"),
        Index("ix_curations_article_id", "article_id"),
        Index("ix_curations_target_id", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """Who changed what, when and why: curation, policy and publishing changes."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_article_id", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[int | None] = mapped_column(Integer)
    target_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IndexBuild(Base):
    """One FAISS build: what went in, how long it took, whether it is the one serving."""

    __tablename__ = "index_builds"
    __table_args__ = (
        CheckConstraint("status IN ('building', 'ready', 'failed')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(255))
    dimension: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
    index_kind: Mapped[str] = mapped_column(String(32), default="flat")
    status: Mapped[str] = mapped_column(String(16), default="building")
    checksum: Mapped[str] = mapped_column(String(64), default="")
    started: Mapped[datetime] = mapped_column(default=utcnow)
    finished: Mapped[datetime | None] = mapped_column()
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)





class SavedPolicy(Base):
    """A ranking policy an editor saved; the newest one is what the next build uses."""

    __tablename__ = "ranking_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
