"""The accounts' tables are part of the one schema, and their unique keys hold in the database."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recommender.storage.account_tables import ApiKey, EditorSession, User
from recommender.storage.schema import Base, utcnow


def test_the_tables_are_in_the_metadata() -> None:
    assert {"api_keys", "users", "login_attempts", "editor_sessions"} <= set(Base.metadata.tables)


def test_a_user_name_is_unique(session: Session) -> None:
    session.add(User(name="ada", password_hash="x"))
    session.commit()
    session.add(User(name="ada", password_hash="y"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_a_key_hash_and_a_session_token_hash_are_unique(session: Session) -> None:
    session.add(ApiKey(name="cms", prefix="abcdefgh", key_hash="h" * 64))
    session.commit()
    session.add(ApiKey(name="cms2", prefix="abcdefgh", key_hash="h" * 64))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    user = User(name="grace", password_hash="x")
    session.add(user)
    session.commit()
    session.add(EditorSession(token_hash="t" * 64, user_id=user.id, expires_at=utcnow()))
    session.commit()
    session.add(EditorSession(token_hash="t" * 64, user_id=user.id, expires_at=utcnow()))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
