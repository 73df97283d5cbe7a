"""Editor accounts: create, look up, authenticate, and the database-backed sign-in limit.

The failure counter lives in SQL rather than in process memory because the app runs as several
gunicorn workers: a limit kept per process would let an attacker multiply it by the worker count.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from recommender.accounts.passwords import DUMMY_HASH, hash_password, verify_password
from recommender.accounts.sessions import end_all_sessions
from recommender.storage.account_tables import LoginAttempt, User
from recommender.storage.locks import scoped_transaction
from recommender.storage.schema import utcnow

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,62}")


class UserError(ValueError):
    """A name or password that cannot be used; the message says why."""


class LockedOut(Exception):
    """Too many recent failed sign-ins for this name from this address: not even checked."""


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UserError("a user name is 1-63 letters, digits, '.', '_', '@' or '-', "
                        "starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def create_user(session: Session, name: str, password: str) -> User:
    """Add an editor (the caller commits); UserError if the name is taken or inputs are weak."""
    check_name(name)
    check_password(password)
    if get_user(session, name) is not None:
        raise UserError(f"a user named {name!r} already exists")
    user = User(name=name, password_hash=hash_password(password), disabled=False)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """Change the password and end every session of the account (the caller commits)."""
    user = get_user(session, name)
    if user is None:
        raise UserError(f"no user named {name!r}")
    user.password_hash = hash_password(check_password(password))
    end_all_sessions(session, user)  # whoever knew the old password is signed out everywhere
    return user


def set_disabled(session: Session, name: str, disabled: bool) -> User:
    """Disable (ending every session) or enable an account (the caller commits)."""
    user = get_user(session, name)
    if user is None:
        raise UserError(f"no user named {name!r}")
    user.disabled = disabled
    if disabled:  # ended, not suspended: enabling the account again revives no session
        end_all_sessions(session, user)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The enabled user with this name and password, else None (same cost either way)."""
    user = get_user(session, name) if len(name) <= 255 else None
    stored = user.password_hash if user is not None else DUMMY_HASH
    if not verify_password(password, stored) or user is None or user.disabled:
        return None
    return user


# -- the sign-in limit ------------------------------------------------------------------------------

def recent_failures(session: Session, name: str, ip: str, now: datetime | None = None) -> int:
    since = (now or utcnow()) - FAILURE_WINDOW
    count = session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.name == name[:255], LoginAttempt.ip == ip[:64], LoginAttempt.at > since))
    return int(count or 0)


def is_locked_out(session: Session, name: str, ip: str, now: datetime | None = None) -> bool:
    """Too many recent failures for this name from this address: refuse before checking."""
    return recent_failures(session, name, ip, now) >= MAX_FAILURES


def record_failure(session: Session, name: str, ip: str, now: datetime | None = None) -> None:
    """Count one failure and forget expired ones, so the table stays small (the caller commits)."""
    moment = now or utcnow()
    session.execute(delete(LoginAttempt).where(LoginAttempt.at <= moment - FAILURE_WINDOW))
    session.add(LoginAttempt(name=name[:255], ip=ip[:64], at=moment))


def clear_failures(session: Session, name: str, ip: str) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.name == name[:255],
                                               LoginAttempt.ip == ip[:64]))


def reserve_attempt(session: Session, name: str, ip: str, now: datetime | None = None) -> bool:
    """Count a sign-in attempt as a failure *before* its password is checked; False if locked out.

    Checking the count and recording the failure happen in one transaction holding a lock on the
    name (``storage.locks.scoped_transaction``), so simultaneous attempts queue there: with the
    count read first and the failure recorded after the (slow) password check, 40 parallel wrong
    guesses all saw "no failures yet" and all got checked. Commits; a success clears the record.
    """
    with scoped_transaction(session, f"sign-in:{name[:255]}"):
        if is_locked_out(session, name, ip, now):
            session.rollback()
            return False
        record_failure(session, name, ip, now)
        session.commit()
    return True


def sign_in(session: Session, name: str, password: str, ip: str) -> User | None:
    """The account, if the name and password match an enabled one, else None; LockedOut if the
    (name, address) pair has failed too often. At most ``MAX_FAILURES`` passwords are checked
    per pair and window, however many attempts arrive at once. The caller commits a success."""
    if not reserve_attempt(session, name, ip):
        raise LockedOut(name)
    user = authenticate(session, name, password)
    if user is not None:
        clear_failures(session, name, ip)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))
