"""The accounts' tables: API keys, editor accounts, failed sign-ins and server-side sessions.

Kept beside ``schema`` (which would otherwise pass the 300-line limit) on the same ``Base`` and
naming convention; ``recommender.storage`` imports this module, so the tables are in
``Base.metadata`` whichever model module is imported first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from recommender.storage.schema import Base, utcnow


class ApiKey(Base):
    """A key the CMS presents to the publish webhook; only its SHA-256 is stored.

    ``prefix`` (the first 8 characters) lets an operator tell keys apart in ``keys list``
    without the database ever holding enough to authenticate.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used: Mapped[datetime | None] = mapped_column()


class User(Base):
    """An editor account; the password is only ever stored as a salted KDF hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(512))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    """A failed sign-in, kept in SQL so the limit holds across every worker process."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_ip_at", "name", "ip", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EditorSession(Base):
    """A signed-in editor's session, kept on the server so it can be ended there.

    The cookie carries a random id; only its SHA-256 is stored, so the table alone cannot sign
    anyone in. Deleting the row ends the session at once, even for a copy of the cookie.
    """

    __tablename__ = "editor_sessions"
    __table_args__ = (Index("ix_editor_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
