"""API keys: stored hashed, verified in constant time, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recommender.accounts import apikeys
from recommender.accounts.apikeys import ApiKeyError, create_key, list_keys, revoke_key, verify_key
from recommender.storage import migrations
from recommender.storage.account_tables import ApiKey
from recommender.storage.schema import utcnow


def test_a_created_key_is_long_random_and_stored_only_as_its_hash(session: Session) -> None:
    key = create_key(session, "cms-production")
    session.commit()
    assert len(key) >= 43  # 32 random bytes, URL-safe base64
    row = session.scalars(select(ApiKey)).one()
    assert row.name == "cms-production" and row.prefix == key[:8]
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.revoked_at is None and row.last_used is None and row.created is not None
    stored = session.execute(text("SELECT * FROM api_keys")).all()
    assert key not in repr(stored)
    assert create_key(session, "second") != key


def test_the_plaintext_is_nowhere_in_the_sqlite_file(tmp_path: Path) -> None:
    from recommender.storage.engine import make_engine, make_session_factory

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        key = create_key(session, "cms")
        session.commit()
    engine.dispose()
    assert key.encode() not in (tmp_path / "keys.db").read_bytes()


def test_verify_accepts_the_key_and_nothing_else(session: Session) -> None:
    key = create_key(session, "cms")
    create_key(session, "other")
    session.commit()
    assert verify_key(session, key) == "cms"
    for wrong in ("", key[:-1], key + "x", key.upper(), "Bearer " + key, key[:8]):
        assert verify_key(session, wrong) is None, wrong


def test_a_revoked_key_is_refused_and_revoking_twice_is_harmless(session: Session) -> None:
    key = create_key(session, "cms")
    first = revoke_key(session, "cms").revoked_at
    session.commit()
    assert verify_key(session, key) is None
    assert revoke_key(session, " cms ").revoked_at == first
    with pytest.raises(ApiKeyError, match="no key named 'nope'"):
        revoke_key(session, "nope")


def test_keys_from_settings_are_accepted_by_position(session: Session) -> None:
    configured = ("first-configured-key-000000000000", "second-configured-key-11111111111")
    assert verify_key(session, configured[1], configured) == "RELATED_API_KEYS[2]"
    assert verify_key(session, "first-configured-key", configured) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 256, "tab\tname"])
def test_bad_names_are_refused(session: Session, name: str) -> None:
    with pytest.raises(ApiKeyError, match="printable"):
        create_key(session, name)


def test_names_are_unique_even_after_revocation(session: Session) -> None:
    create_key(session, "cms")
    revoke_key(session, "cms")
    with pytest.raises(ApiKeyError, match="already exists"):
        create_key(session, "cms")


def test_last_used_is_recorded_at_most_once_a_minute(session: Session) -> None:
    key = create_key(session, "cms")
    start = utcnow()
    verify_key(session, key, now=start)
    row = session.scalars(select(ApiKey)).one()
    assert row.last_used == start
    verify_key(session, key, now=start + timedelta(seconds=30))
    assert row.last_used == start
    later = start + apikeys.LAST_USED_RESOLUTION
    verify_key(session, key, now=later)
    assert row.last_used == later


def test_verify_compares_every_candidate_in_constant_time(session: Session,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b", "c"):
        create_key(session, name)
    calls: list[tuple[str, str]] = []
    real = apikeys.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(apikeys.hmac, "compare_digest", spy)
    assert verify_key(session, "not-a-key", ("configured",)) is None
    assert len(calls) == 4  # no early exit, no lookup by equality in SQL


def test_list_keys_includes_revoked_ones_oldest_first(session: Session) -> None:
    create_key(session, "first")
    create_key(session, "second")
    revoke_key(session, "first")
    keys = list_keys(session)
    assert [(k.name, k.revoked_at is not None) for k in keys] == [("first", True),
                                                                  ("second", False)]
