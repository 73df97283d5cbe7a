"""``related-reading users``: editor accounts from the command line, passwords from a prompt
(asked twice) or the first line of stdin; bad input exits 2 and changes nothing."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recommender.accounts import passwords, users
from recommender.cli import main as cli
from recommender.cli import users as cli_users
from recommender.storage.account_tables import User

ROOT = Path(__file__).resolve().parents[2]


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("RELATED_DATABASE_URL", url)


def test_cli_creates_a_user_from_stdin(sqlite_url: str, sqlite_session: Session,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _env(monkeypatch, sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["users", "create", "ada", "--password-stdin"]) == 0
    user = sqlite_session.query(User).one()
    assert user.name == "ada" and passwords.verify_password("a long enough password",
                                                            user.password_hash)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["users", "create", "ada", "--password-stdin"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["users", "disable", "ada"]) == 0
    assert cli.main(["users", "list"]) == 0
    assert "ada\tdisabled" in capsys.readouterr().out


def test_cli_prompts_twice_and_refuses_a_mismatch(sqlite_url: str,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _env(monkeypatch, sqlite_url)
    answers = iter(["a long enough password", "a different password"])
    monkeypatch.setattr(cli_users.getpass, "getpass", lambda _prompt: next(answers))
    assert cli.main(["users", "create", "ada"]) == 2
    assert "do not match" in capsys.readouterr().err
    answers = iter(["a long enough password"] * 2)
    assert cli.main(["users", "create", "ada"]) == 0


def test_password_and_enable_change_the_account(sqlite_url: str, sqlite_session: Session,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _env(monkeypatch, sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["users", "create", "ada", "--password-stdin"]) == 0
    assert cli.main(["users", "disable", "ada"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\r\nignored line\n"))
    assert cli.main(["users", "password", "ada", "--password-stdin"]) == 0
    assert cli.main(["users", "enable", "ada"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "user ada: enable done"
    user = sqlite_session.query(User).one()
    assert not user.disabled
    assert passwords.verify_password("another long password", user.password_hash)  # no CR kept
    assert not passwords.verify_password("a long enough password", user.password_hash)


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["users", "create"], "", "users create needs NAME"),
    (["users", "disable"], "", "users disable needs NAME"),
    (["users", "create", "<b>", "--password-stdin"], "a long enough password\n", "user name"),
    (["users", "create", "ada", "--password-stdin"], "short\n", "at least 10"),
    (["users", "password", "nobody", "--password-stdin"], "a long enough password\n",
     "no user named 'nobody'"),
    (["users", "enable", "nobody"], "", "no user named 'nobody'"),
])
def test_bad_input_exits_2_and_changes_nothing(sqlite_url: str, sqlite_session: Session,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str], argv: list[str],
                                               stdin: str, message: str) -> None:
    _env(monkeypatch, sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("related-reading: error: ") and message in err
    assert sqlite_session.query(User).count() == 0


def test_list_shows_every_account_and_its_state(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _env(monkeypatch, sqlite_url)
    assert cli.main(["users", "list"]) == 0
    assert capsys.readouterr().out == ""  # no accounts yet
    for name in ("ada", "bob"):
        monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
        assert cli.main(["users", "create", name, "--password-stdin"]) == 0
    assert cli.main(["users", "disable", "bob"]) == 0
    capsys.readouterr()
    assert cli.main(["users", "list"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [row[:2] for row in rows] == [["ada", "active"], ["bob", "disabled"]]
    assert all(row[2].endswith("Z") for row in rows)


def test_users_create_works_after_the_readme_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Issue #17 item 11: scripts/demo.sh keeps its data where the CLI looks by default, so the
    README's `users create` (same directory, no settings) finds the demo's database."""
    demo_script = (ROOT / "scripts" / "demo.sh").read_text()
    assert not re.search(r"^\s*(export\s+)?RELATED_(DATA_DIR|DATABASE_URL)=", demo_script, re.M)
    assert "demo-load" in demo_script
    for name in [n for n in os.environ if n.startswith("RELATED_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo-load"]) == 0  # the step of demo.sh that creates the database
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["users", "create", "ada", "--password-stdin"]) == 0
    assert (tmp_path / "var" / "related.db").is_file()
    assert "user ada: create done" in capsys.readouterr().out


def test_an_unmigrated_database_gets_a_hint_not_a_traceback(
        db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _env(monkeypatch, db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["users", "create", "ada", "--password-stdin"]) == 1
    err = capsys.readouterr().err
    assert "run `related-reading db upgrade` first" in err and "Traceback" not in err
    assert cli.main(["users", "list"]) == 1
    assert "db upgrade" in capsys.readouterr().err


def test_the_password_rule_is_stated(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["users", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"at least {users.MIN_PASSWORD_LENGTH} characters" in help_text
