"""``related-reading reindex`` and ``eval`` as cron and a shell see them: one JSON summary as the
last line on stdout whatever happens, the error on stderr, and the exit code that says what
happened (0 done, 1 failed, 2 bad input, 75 another run holds the lock)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from recommender.cli.main import main
from recommender.index.builds import IndexStore
from recommender.storage.engine import make_engine
from recommender.storage.locks import file_lock
from recommender.storage.schema import Embedding
from tests.helpers.eval_sets import METRICS
from tests.helpers.eval_sets import demo_records as _demo_records
from tests.helpers.eval_sets import random_ndcg as _random_ndcg
from tests.helpers.eval_sets import write_set as _write_set
from tests.helpers.reindex_runs import demo_site
from tests.helpers.reindex_runs import run_reindex as _run
from tests.helpers.reindex_runs import site_settings as _settings


@pytest.fixture
def site(tmp_path: Path) -> dict[str, str]:
    """A demo catalogue on SQLite; returns the environment for subprocess runs."""
    return demo_site(tmp_path / "data")


def _embeddings(env: dict[str, str]) -> int:
    engine = make_engine(_settings(env).database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Embedding)) or 0
    finally:
        engine.dispose()


# -- reindex ----------------------------------------------------------------------------------------

def test_second_run_while_one_holds_the_lock(site: dict[str, str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["RELATED_DATA_DIR"] = site["RELATED_DATA_DIR"]
    try:
        with file_lock(_settings(site).index_dir / "reindex.lock"):
            code = main(["reindex", "--quiet"])
    finally:
        del os.environ["RELATED_DATA_DIR"]
    out = capsys.readouterr()
    assert code == 75
    assert json.loads(out.out.strip().splitlines()[-1])["status"] == "locked"
    assert "another reindex is running" in out.err


def test_database_unreachable(site: dict[str, str]) -> None:
    code, summary, err = _run(site, RELATED_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/x")
    assert code == 1 and summary["status"] == "failed"
    assert "database unreachable" in err
    assert IndexStore(_settings(site).index_dir).current_id() is None


def test_a_dry_run_prints_only_its_summary_and_changes_nothing(
        site: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A dry run reads model ids, never vectors: the real encoder is named but never loaded."""
    monkeypatch.setenv("RELATED_DATA_DIR", site["RELATED_DATA_DIR"])
    assert main(["reindex", "--dry-run", "--quiet"]) == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()  # stdout is the summary alone: cron mail and jq read it
    summary = json.loads(line)
    assert (summary["status"], summary["mode"], summary["dry_run"]) == ("ok", "dry-run", True)
    assert summary["embedded"] == 86 and summary["build_id"] is None and summary["error"] is None
    assert summary["peak_rss_mb"] > 0
    assert "error" not in err
    assert _embeddings(site) == 0
    assert IndexStore(_settings(site).index_dir).current_id() is None


def test_a_source_that_fails_is_a_failed_run_naming_it(site: dict[str, str], tmp_path: Path) -> None:
    feed = tmp_path / "missing-feed.xml"
    code, summary, err = _run(site, "--source", f"rss:{feed}")
    assert code == 1 and summary["status"] == "failed"
    assert str(feed) in str(summary["error"])
    assert err.count("related-reading reindex: error: ") == 1 and str(feed) in err
    assert "Traceback" not in err
    assert _embeddings(site) == 0  # it failed before any work
    assert IndexStore(_settings(site).index_dir).current_id() is None


# -- eval -------------------------------------------------------------------------------------------

def test_the_command_refuses_bad_input_with_a_message(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["eval", str(tmp_path)]) == 2
    assert "no articles.jsonl" in capsys.readouterr().err
    _write_set(tmp_path, _demo_records(5))
    assert main(["eval", str(tmp_path), "--k", "0"]) == 2
    assert "--k" in capsys.readouterr().err


@pytest.mark.model
def test_the_command_ends_with_one_json_line_with_the_real_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _demo_records(30)
    judged = _write_set(tmp_path / "small", records)
    assert main(["eval", str(tmp_path / "small"), "--json"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out.strip().splitlines()[-1])
    assert result["dataset"] == "small" and result["queries"] == len(judged)
    assert set(result["metrics"]) == METRICS == set(result["baseline"]["tfidf"])
    assert result["metrics"]["ndcg@10"] > _random_ndcg([str(r["id"]) for r in records], judged)
    assert "ndcg@10" in out.err  # the table goes to stderr beside the JSON
    assert result["mode"] == "relatedness" and "recency and fallback off" in out.err


# -- publish-due ----------------------------------------------------------------------------

def test_publish_due_prints_one_json_line_and_loads_no_model_when_nothing_is_due(
        demo_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """What cron runs every minute: with nothing due it is one query (the model is never made:
    the demo was built with the fake encoder, so a real one would not even match it)."""
    monkeypatch.setenv("RELATED_DATA_DIR", str(demo_dir))
    assert main(["publish-due"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1]) == {"went_live": 0, "ids": [], "lists_updated": 0,
                                   "remaining": False}
    monkeypatch.setenv("RELATED_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert main(["publish-due"]) == 1
    assert "publish-due: error: database unreachable" in capsys.readouterr().err
