"""Password hashing: salted scrypt, its parameters stored with each hash, malformed hashes never
match."""

from __future__ import annotations

import base64
import hashlib

from recommender.accounts import passwords


def test_hashes_are_salted_scrypt_and_verify_in_constant_time() -> None:
    first, second = passwords.hash_password("hunter2hunter2"), passwords.hash_password("hunter2hunter2")
    assert first != second  # a random salt each time
    assert first.startswith("scrypt$16384$8$1$")
    assert passwords.verify_password("hunter2hunter2", first)
    assert not passwords.verify_password("hunter2hunter3", first)
    for broken in ("", "plain", "scrypt$x$8$1$aa$bb", "bcrypt$1$2$3$4$5"):
        assert not passwords.verify_password("hunter2hunter2", broken)


def test_the_hash_is_the_scrypt_key_of_its_own_salt() -> None:
    stored = passwords.hash_password("correct horse battery")
    scheme, n, r, p, salt, key = stored.split("$")
    assert scheme == "scrypt" and len(base64.b64decode(salt)) == passwords.SALT_BYTES
    derived = hashlib.scrypt(b"correct horse battery", salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=passwords.KEY_BYTES, maxmem=64 * 1024 * 1024)
    assert base64.b64decode(key) == derived


def test_verify_uses_the_parameters_stored_with_the_hash() -> None:
    """Raising N later must not lock out accounts hashed with the old parameters."""
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(b"an older password", salt=salt, n=2**10, r=4, p=2, dklen=32)
    older = "$".join(["scrypt", "1024", "4", "2", base64.b64encode(salt).decode(),
                      base64.b64encode(key).decode()])
    assert passwords.verify_password("an older password", older)
    assert not passwords.verify_password("an older passwore", older)
    # the same key under other parameters is another hash: it does not match
    assert not passwords.verify_password("an older password", older.replace("$1024$", "$2048$", 1))


def test_malformed_hashes_never_match_and_never_raise() -> None:
    good = passwords.hash_password("a long enough password")
    scheme, n, r, p, salt, key = good.split("$")
    broken = [
        good + "$extra", "$".join([scheme, n, r, p, salt]),  # a field too many, one too few
        "$".join([scheme, n, r, p, "not base64!", key]),
        "$".join([scheme, n, r, p, salt, "%%%"]),
        "$".join([scheme, "3", r, p, salt, key]),  # N not a power of two: scrypt refuses
        "$".join([scheme, "-1", r, p, salt, key]),  # negative or huge: hashlib's TypeError
        "$".join([scheme, str(2**70), r, p, salt, key]),
        "$".join([scheme, n, "0", p, salt, key]),
        "$".join(["SCRYPT", n, r, p, salt, key]),
        "$".join([scheme, n, r, p, salt, base64.b64encode(b"short").decode()]),  # wrong length
    ]
    for stored in broken:
        assert passwords.verify_password("a long enough password", stored) is False, stored


def test_the_dummy_hash_is_a_real_hash_nobody_knows() -> None:
    assert passwords.DUMMY_HASH.startswith("scrypt$16384$8$1$")
    assert not passwords.verify_password("", passwords.DUMMY_HASH)
    assert passwords.verify_password("x", passwords.hash_password("x"))  # even a short one
    assert passwords.verify_password("pässwörd ✓", passwords.hash_password("pässwörd ✓"))
