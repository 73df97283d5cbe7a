"""Editor sessions kept on the server: start, resolve, end one, end all of an account's.

A signed cookie alone cannot be revoked: signing out would only ask the browser to forget it, and
a copy (a stolen cookie, a shared machine) would keep working for its whole lifetime. So the
cookie carries a random session id and the database holds its SHA-256 and expiry; a session is
valid only while its row exists, has not expired and its account is enabled. Changing a password
or disabling an account deletes every row of that account, so re-enabling it revives none.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recommender.storage.account_tables import EditorSession, User
from recommender.storage.schema import utcnow

# The documented lifetime (docs/editors.md): a working day, then sign in again.
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_BYTES = 32


def _hash(token: str) -> str:
    # Unsalted SHA-256 is enough: the token is 32 random bytes (see accounts.apikeys.hash_key).
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


def start_session(session: Session, user: User, now: datetime | None = None) -> str:
    """Store a new session for ``user`` and return its token, for the cookie (the caller commits).

    Expired rows are deleted here, so the table holds only live sessions.
    """
    moment = now or utcnow()
    session.execute(delete(EditorSession).where(EditorSession.expires_at <= moment))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(EditorSession(token_hash=_hash(token), user_id=user.id, created=moment,
                              expires_at=moment + SESSION_LIFETIME))
    session.flush()
    return token


def session_user(session: Session, token: object, now: datetime | None = None) -> User | None:
    """The enabled account whose live session ``token`` is, else None."""
    if not isinstance(token, str) or not token:
        return None
    row = session.execute(
        select(User, EditorSession.expires_at).join(EditorSession, EditorSession.user_id == User.id)
        .where(EditorSession.token_hash == _hash(token))).first()
    if row is None:
        return None
    user, expires_at = row
    if expires_at <= (now or utcnow()) or user.disabled:
        return None
    return user


def end_session(session: Session, token: object) -> None:
    """Delete one session (signing out); unknown tokens are ignored. The caller commits."""
    if isinstance(token, str) and token:
        session.execute(delete(EditorSession).where(EditorSession.token_hash == _hash(token)))


def end_all_sessions(session: Session, user: User) -> int:
    """Delete every session of ``user`` (password changed, account disabled); how many."""
    result = session.execute(delete(EditorSession).where(EditorSession.user_id == user.id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
