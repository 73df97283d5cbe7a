"""``related-reading keys``: the plaintext once on stdout, the warning on stderr, bad input exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recommender.accounts.apikeys import verify_key
from recommender.cli.main import main


@pytest.fixture
def cli_db(migrated_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("RELATED_DATABASE_URL", migrated_url)
    monkeypatch.setenv("RELATED_DATA_DIR", str(tmp_path / "data"))
    return migrated_url


def test_keys_cli_round_trip(cli_db: str, capsys: pytest.CaptureFixture[str],
                             session: Session) -> None:
    assert main(["keys", "create", "cms-production"]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert len(key) >= 43 and "\n" not in key
    assert "only time it is shown" in err and "hash" in err and key not in err
    assert verify_key(session, key) == "cms-production"
    session.commit()

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "cms-production" in listing and key[:8] + "..." in listing and "active" in listing
    assert key not in listing

    assert main(["keys", "revoke", "cms-production"]) == 0
    assert "revoked key 'cms-production'" in capsys.readouterr().out
    session.expire_all()
    assert verify_key(session, key) is None
    assert main(["keys", "list"]) == 0
    assert "revoked 2" in capsys.readouterr().out


def test_keys_cli_bad_input_exits_2(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "cms"]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "cms"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["keys", "revoke", "nope"]) == 2
    assert "no key named 'nope'" in capsys.readouterr().err
    assert main(["keys", "create", " "]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["keys"])
    assert usage.value.code == 2


def test_keys_cli_on_an_unmigrated_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RELATED_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["keys", "list"]) == 1
    assert "db upgrade" in capsys.readouterr().err


def test_keys_list_when_there_are_none(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "list"]) == 0
    assert "no API keys" in capsys.readouterr().out


def test_a_created_key_is_stdout_alone_for_scripts(cli_db: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``KEY=$(related-reading keys create cms)`` must capture the key and nothing else."""
    assert main(["keys", "create", "  cms  "]) == 0
    out, err = capsys.readouterr()
    key = out.rstrip("\n")
    assert out == key + "\n" and len(key) >= 43 and key.strip() == key
    assert "created key 'cms'" in err  # the name as stored: trimmed
    assert main(["keys", "list"]) == 0
    [header, row] = capsys.readouterr().out.splitlines()
    assert header.split() == ["name", "prefix", "created", "last", "used", "status"]
    assert row.split()[0] == "cms" and row.split()[1] == key[:8] + "..."
    assert row.split()[-1] == "active" and " - " in row  # never used yet
