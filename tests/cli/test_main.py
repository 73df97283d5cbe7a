"""The ``related-reading`` command itself: settings checked before anything runs, one message and
exit code for a bad setting (2), an unreachable database (1) or Ctrl-C (130) whatever the
subcommand, never a traceback; and its own subcommands: ``db``, ``import`` and ``demo-load``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender import exits
from recommender.cli import main as cli
from recommender.cli.main import DEMO_DIR
from recommender.storage import migrations
from recommender.storage.engine import make_engine
from recommender.storage.schema import Article
from tests.helpers.sites import FakeSite, count_articles

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"id": "a1", "url": "https://x.example/1", "title": "One", "body": "Text.",
        "published_at": "2025-01-01T00:00:00Z"}


def _articles(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Article)) or 0
    finally:
        engine.dispose()


def _jsonl(path: Path, *records: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_a_bad_setting_exits_2_before_anything_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RELATED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RELATED_RELATED_K", "many")
    assert cli.main(["demo-load"]) == exits.USAGE
    out, err = capsys.readouterr()
    assert out == "" and err == ("related-reading: error: bad setting: RELATED_RELATED_K: "
                                 "expected a positive integer, got 'many'\n")
    assert not (tmp_path / "data").exists()  # no database was made


def test_an_unreachable_database_exits_1_naming_the_host_not_the_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RELATED_DATABASE_URL", "postgresql+psycopg://reader:s3cret@127.0.0.1:9/news")
    articles = _jsonl(tmp_path / "a.jsonl", GOOD)
    for argv in (["db", "current"], ["users", "list"], ["import", str(articles)]):
        assert cli.main(argv) == exits.FAILED, argv
        err = capsys.readouterr().err
        assert err.startswith("related-reading: error: database unreachable or failing "
                              "(127.0.0.1:9/news): "), err
        assert "s3cret" not in err and "Traceback" not in err


def test_ctrl_c_exits_130_and_stores_nothing(site: FakeSite, sqlite_url: str) -> None:
    site.overrides["/slow-feed.xml"] = None  # the server never answers
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RELATED_DATABASE_URL": sqlite_url}
    with subprocess.Popen([sys.executable, "-m", "recommender", "import", "--source",
                           f"rss:{site.url('/slow-feed.xml')}"], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 60
        while "/slow-feed.xml" not in site.requests:  # the command is waiting on the feed
            assert proc.poll() is None and time.monotonic() < deadline, proc.returncode
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == exits.INTERRUPTED == 130
    assert err == "related-reading: error: interrupted\n" and out == ""
    assert _articles(sqlite_url) == 0


def test_db_upgrade_current_and_downgrade_say_where_the_database_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RELATED_DATABASE_URL", url)
    script = ScriptDirectory.from_config(migrations.alembic_config(url))
    head = script.get_current_head()
    revision = script.get_revision(head) if head else None
    assert revision is not None
    previous = revision.down_revision
    assert cli.main(["db", "current"]) == exits.OK
    assert capsys.readouterr().out == "database at revision base\n"
    assert cli.main(["db", "upgrade"]) == exits.OK
    assert capsys.readouterr().out.splitlines()[-1] == f"database at revision {head}"
    assert cli.main(["db", "downgrade"]) == exits.OK
    assert capsys.readouterr().out.splitlines()[-1] == f"database at revision {previous}"
    assert migrations.current(url) == previous
    with pytest.raises(SystemExit) as usage:
        cli.main(["db", "sideways"])
    assert usage.value.code == exits.USAGE


def test_import_prints_its_totals_and_is_all_or_nothing(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RELATED_DATABASE_URL", sqlite_url)
    good = _jsonl(tmp_path / "good.jsonl", GOOD, {**GOOD, "id": "a2", "url": "https://x.example/2"})
    bad = _jsonl(tmp_path / "bad.jsonl", {**GOOD, "id": "b1", "url": "https://x.example/b"},
                 {"id": "b2", "title": "no url"}, "{not json")
    assert cli.main(["import", str(good), str(bad)]) == exits.USAGE
    out, err = capsys.readouterr()
    assert out == "" and err.count("invalid: ") == 2
    assert "fix the rows or pass --skip-invalid" in err
    assert _articles(sqlite_url) == 0  # the good file before it was not kept either
    assert cli.main(["import", str(good), str(bad), "--skip-invalid"]) == exits.OK
    out, err = capsys.readouterr()
    totals = json.loads(out)
    assert (totals["seen"], totals["added"], totals["skipped"]) == (5, 3, 2)
    assert totals["seconds"] >= 0 and err.count("skipped: ") == 2
    assert _articles(sqlite_url) == 3
    assert cli.main(["import", str(tmp_path / "nope.jsonl")]) == exits.USAGE
    assert "no such file: " in capsys.readouterr().err


def test_demo_load_migrates_and_imports_the_bundled_magazine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("RELATED_DATABASE_URL", url)
    records = sum(1 for path in DEMO_DIR.glob("*.jsonl")
                  for line in path.read_text().splitlines() if line.strip())
    assert cli.main(["demo-load"]) == exits.OK
    assert json.loads(capsys.readouterr().out)["added"] == records
    assert cli.main(["demo-load"]) == exits.OK  # again: nothing changes
    totals = json.loads(capsys.readouterr().out)
    assert (totals["added"], totals["unchanged"]) == (0, records)
    assert _articles(url) == records


def test_cli_import_source(sqlite_url: str, site: FakeSite, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RELATED_DATABASE_URL", sqlite_url)
    site.wp_fail[3] = 503
    args = ["import", "--source", f"rss:{site.url('/feed-rss.xml')}", "--source",
            f"wordpress:{site.url('')}"]
    assert cli.main(args) == exits.FAILED
    assert "page=3" in capsys.readouterr().err
    engine = make_engine(sqlite_url)
    with Session(engine) as check:
        assert count_articles(check) == 0  # the feed had been upserted, but nothing was committed
    engine.dispose()
    site.wp_fail.clear()
    assert cli.main([*args, "--since", "2025-01-01"]) == exits.OK
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert (summary["seen"], summary["added"], summary["skipped"]) == (9, 8, 1)
    assert "skipped: " in err and "title" in err
    assert cli.main(["import", "--since", "yesterday", "--source", "rss:x"]) == exits.USAGE
    assert cli.main(["import", "--source", "gopher:x"]) == exits.USAGE
    assert cli.main(["import"]) == exits.USAGE


def test_import_refuses_text_that_is_not_text_by_file_and_line(
        migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Lone surrogates, NUL and control characters in ids and URLs, and unsafe image links:
    ``file:line: field: reason`` and exit 2, nothing stored (SQLite and PostgreSQL); with
    --skip-invalid the good rows are stored."""
    monkeypatch.setenv("RELATED_DATABASE_URL", migrated_url)
    path = _jsonl(tmp_path / "odd.jsonl", GOOD,
                  {**GOOD, "id": "a\u0000b", "url": "https://x.example/2"},
                  {**GOOD, "id": "a3", "url": "https://x.example/3\u001b"},
                  {**GOOD, "id": "a4", "url": "https://x.example/4", "title": "One \ud800"},
                  {**GOOD, "id": "a5", "url": "https://x.example/5", "image": "javascript:x()"})
    assert cli.main(["import", str(path)]) == exits.USAGE
    err = capsys.readouterr().err
    for line, field in ((2, "id"), (3, "url"), (4, "title"), (5, "image")):
        assert f"{path}:{line}: {field}: " in err, err
    assert "Traceback" not in err and _articles(migrated_url) == 0
    assert cli.main(["import", str(path), "--skip-invalid"]) == exits.OK
    assert _articles(migrated_url) == 1
