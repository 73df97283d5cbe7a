"""Password hashing for editor accounts: scrypt with a random salt, checked in constant time.

scrypt is in the standard library (no native dependency to install on a publisher's server) and is
memory-hard, so a stolen ``users`` table is expensive to attack. The parameters are stored with
each hash, so they can be raised later without invalidating existing accounts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
# Enough for n=2**14, r=8 (16 MiB) with headroom; OpenSSL's default cap is 32 MiB.
_MAXMEM = 64 * 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=_MAXMEM)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$key`` (base64), ready to store."""
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; a malformed hash simply never matches."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(key)
        derived = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):  # hashlib refuses a negative n, r or p with a TypeError
        return False
    return hmac.compare_digest(derived, expected)


# Verified against when the name is unknown, so a wrong name costs as long as a wrong password
# and response times do not reveal which accounts exist.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
