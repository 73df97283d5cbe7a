"""Server-side editor sessions: a token resolves to its account until it expires, is ended, or
the account's password changes or it is disabled (and re-enabling revives nothing)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.accounts import sessions, users
from recommender.storage.account_tables import EditorSession, User
from recommender.storage.schema import utcnow


def _user(session: Session, name: str = "ada") -> User:
    user = users.create_user(session, name, "a long enough password")
    session.commit()
    return user


def test_a_token_resolves_to_its_account_and_only_its_hash_is_stored(session: Session) -> None:
    user = _user(session)
    token = sessions.start_session(session, user)
    session.commit()
    assert sessions.session_user(session, token) is user
    assert sessions.session_user(session, token + "x") is None
    assert sessions.session_user(session, None) is None
    stored = session.scalars(select(EditorSession.token_hash)).one()
    assert token not in stored and len(stored) == 64


def test_a_session_expires_after_twelve_hours(session: Session) -> None:
    user = _user(session)
    start = utcnow()
    token = sessions.start_session(session, user, now=start)
    session.commit()
    assert sessions.SESSION_LIFETIME.total_seconds() == 12 * 3600
    assert sessions.session_user(session, token, now=start + sessions.SESSION_LIFETIME
                                 - sessions.SESSION_LIFETIME / 100) is user
    assert sessions.session_user(session, token, now=start + sessions.SESSION_LIFETIME) is None
    # a later sign-in sweeps the expired row away
    sessions.start_session(session, user, now=start + sessions.SESSION_LIFETIME * 2)
    session.commit()
    assert session.scalar(select(func.count(EditorSession.id))) == 1


def test_ending_one_session_leaves_the_others(session: Session) -> None:
    user = _user(session)
    first, second = sessions.start_session(session, user), sessions.start_session(session, user)
    sessions.end_session(session, first)
    sessions.end_session(session, "never issued")
    session.commit()
    assert sessions.session_user(session, first) is None
    assert sessions.session_user(session, second) is user


def test_a_password_change_ends_every_session_of_the_account_only(session: Session) -> None:
    ada, bob = _user(session), _user(session, "bob")
    tokens = [sessions.start_session(session, ada) for _ in range(2)]
    other = sessions.start_session(session, bob)
    session.commit()
    users.set_password(session, "ada", "another long password")
    session.commit()
    assert [sessions.session_user(session, t) for t in tokens] == [None, None]
    assert sessions.session_user(session, other) is bob


def test_disabling_ends_sessions_and_enabling_does_not_revive_them(session: Session) -> None:
    user = _user(session)
    token = sessions.start_session(session, user)
    session.commit()
    users.set_disabled(session, "ada", True)
    session.commit()
    assert sessions.session_user(session, token) is None
    users.set_disabled(session, "ada", False)
    session.commit()
    assert sessions.session_user(session, token) is None
    assert session.scalar(select(func.count(EditorSession.id))) == 0
