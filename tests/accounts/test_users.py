"""Editor accounts: creation, authentication and the database-backed sign-in limit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recommender.accounts import users
from recommender.storage.account_tables import LoginAttempt
from recommender.storage.engine import make_session_factory
from recommender.storage.schema import utcnow


def test_create_and_authenticate(session: Session) -> None:
    user = users.create_user(session, "ada", "a long enough password")
    session.commit()
    assert user.password_hash != "a long enough password"
    assert users.authenticate(session, "ada", "a long enough password") is not None
    assert users.authenticate(session, "ada", "wrong password!!") is None
    assert users.authenticate(session, "nobody", "a long enough password") is None
    users.set_disabled(session, "ada", True)
    assert users.authenticate(session, "ada", "a long enough password") is None


@pytest.mark.parametrize(("name", "password", "message"), [
    ("ada", "short", "at least"), ("", "a long enough password", "user name"),
    ("<script>", "a long enough password", "user name")])
def test_bad_names_and_passwords_are_refused(session: Session, name: str, password: str,
                                             message: str) -> None:
    with pytest.raises(users.UserError, match=message):
        users.create_user(session, name, password)


def test_names_are_unique(session: Session) -> None:
    users.create_user(session, "ada", "a long enough password")
    with pytest.raises(users.UserError, match="already exists"):
        users.create_user(session, "ada", "another long password")


def test_failures_lock_out_one_name_from_one_address_for_a_window(session: Session) -> None:
    now = utcnow()
    for _ in range(users.MAX_FAILURES):
        assert not users.is_locked_out(session, "ada", "10.0.0.1", now)
        users.record_failure(session, "ada", "10.0.0.1", now)
    session.commit()
    assert users.is_locked_out(session, "ada", "10.0.0.1", now)
    assert not users.is_locked_out(session, "ada", "10.0.0.2", now)
    assert not users.is_locked_out(session, "bob", "10.0.0.1", now)
    later = now + users.FAILURE_WINDOW + timedelta(seconds=1)
    assert not users.is_locked_out(session, "ada", "10.0.0.1", later)
    users.record_failure(session, "ada", "10.0.0.1", later)  # prunes the expired ones
    session.commit()
    assert session.query(LoginAttempt).count() == 1
    users.clear_failures(session, "ada", "10.0.0.1")
    assert session.query(LoginAttempt).count() == 0


def _race(engine: Engine, attempts: int, password: str) -> list[str]:
    """``attempts`` sign-ins for one name from one address, all released at once."""
    factory = make_session_factory(engine)
    start = threading.Barrier(attempts)

    def attempt(_: int) -> str:
        with factory() as session:
            start.wait()
            try:
                user = users.sign_in(session, "ada", password, "10.0.0.9")
            except users.LockedOut:
                return "locked out"
            session.commit()
            return "wrong" if user is None else "signed in"

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(attempt, range(attempts)))


def test_simultaneous_wrong_passwords_get_at_most_five_checks(engine: Engine) -> None:
    """Issue #17 item 9: the limit holds under concurrency, on SQLite and PostgreSQL. "wrong"
    means the password was checked; a locked-out attempt never reaches the check."""
    with make_session_factory(engine)() as session:
        users.create_user(session, "ada", "a long enough password")
        session.commit()
    outcomes = _race(engine, 40, "not the password")
    assert outcomes.count("wrong") == users.MAX_FAILURES
    assert outcomes.count("locked out") == 40 - users.MAX_FAILURES
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count(LoginAttempt.id))) == users.MAX_FAILURES
        with pytest.raises(users.LockedOut):  # the right password is not even checked now
            users.sign_in(session, "ada", "a long enough password", "10.0.0.9")


def test_a_success_clears_the_attempt_it_reserved(session: Session) -> None:
    users.create_user(session, "ada", "a long enough password")
    session.commit()
    assert users.sign_in(session, "ada", "wrong password!!", "10.0.0.1") is None
    assert users.sign_in(session, "ada", "a long enough password", "10.0.0.1") is not None
    session.commit()
    assert session.scalar(select(func.count(LoginAttempt.id))) == 0
