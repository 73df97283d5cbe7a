"""API keys for the write endpoints (the CMS's publish webhook): create, list, revoke, verify.

A key is shown once, when it is created; the database keeps only its SHA-256 and its first eight
characters (so an operator can tell keys apart in ``keys list``). Keys named in the
``RELATED_API_KEYS`` setting are accepted too, for deployments that hand secrets to processes
through the environment rather than the database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.storage.account_tables import ApiKey
from recommender.storage.schema import utcnow

KEY_BYTES = 32
PREFIX_LENGTH = 8
MAX_NAME_LENGTH = 255
# Recording every use would be a write per request; once a minute is enough to see a key in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SETTINGS_KEY_NAME = "RELATED_API_KEYS[{index}]"
_NAME = re.compile(r"[^\x00-\x1f\x7f]+")


class ApiKeyError(ValueError):
    """Bad input for a key operation: a duplicate, unknown or malformed name."""


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex.

    A fast, unsalted hash is right here (unlike for passwords): keys are 32 random bytes from
    ``secrets.token_urlsafe``, so there is no dictionary to try and brute force over 2**256
    candidates is hopeless however fast each guess is; a slow KDF would only add latency to every
    authenticated request. Being deterministic, it also needs no per-key salt lookup.
    """
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or not _NAME.fullmatch(cleaned):
        raise ApiKeyError(f"a key name must be 1 to {MAX_NAME_LENGTH} printable characters")
    return cleaned


def create_key(session: Session, name: str) -> str:
    """Store a new key under ``name`` and return its plaintext: the only time it is visible.

    The caller commits. Raises :class:`ApiKeyError` when the name is malformed or taken (also by
    a revoked key: names identify keys in the audit log, so they are never reused).
    """
    cleaned = _clean_name(name)
    if session.scalars(select(ApiKey.id).where(ApiKey.name == cleaned)).first() is not None:
        raise ApiKeyError(f"a key named {cleaned!r} already exists; choose another name")
    key = secrets.token_urlsafe(KEY_BYTES)
    session.add(ApiKey(name=cleaned, prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key)))
    session.flush()
    return key


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created, ApiKey.id)))


def revoke_key(session: Session, name: str, now: datetime | None = None) -> ApiKey:
    """Stop accepting the key named ``name`` (the caller commits); revoking twice is harmless."""
    key = session.scalars(select(ApiKey).where(ApiKey.name == name.strip())).first()
    if key is None:
        raise ApiKeyError(f"no key named {name.strip()!r}")
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()
    return key


def verify_key(session: Session, presented: str, configured: Sequence[str] = (),
               now: datetime | None = None) -> str | None:
    """The name of the key ``presented`` is, or None: stored (not revoked) or configured ones.

    Every candidate is compared with ``hmac.compare_digest`` and the loop never stops early, so
    the time taken does not tell an attacker how close a guess was or which key matched.
    Comparing digests, not the keys, also hides the configured keys' lengths. A stored key's
    ``last_used`` is updated (at most once a minute) in the caller's transaction.
    """
    if not presented:
        return None
    digest = hash_key(presented)
    match: str | None = None
    for index, configured_key in enumerate(configured, start=1):
        if hmac.compare_digest(hash_key(configured_key), digest) and match is None:
            match = SETTINGS_KEY_NAME.format(index=index)
    matched_row: ApiKey | None = None
    for row in session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None))):
        if hmac.compare_digest(row.key_hash, digest) and matched_row is None:
            matched_row = row
    if matched_row is not None and match is None:
        moment = now or utcnow()
        if matched_row.last_used is None or moment - matched_row.last_used >= LAST_USED_RESOLUTION:
            matched_row.last_used = moment
        match = matched_row.name
    return match
