"""The nightly job under the faults it must survive: kills, read-only and full disks, a publish
mid-build (the command's answer to a held lock or a dead database: tests/cli/test_jobs.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recommender.feedback.events import parse_batch, store
from recommender.index.builds import IndexStore
from recommender.jobs.build import builder_stamp, full_build
from recommender.jobs.reindex import fail_interrupted_builds
from recommender.live.recommender import Recommender
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.feedback_tables import FeedbackDaily, FeedbackEvent
from recommender.storage.schema import Article, Embedding, IndexBuild, RelatedItem, utcnow
from tests.helpers.fakes import FakeEncoder
from tests.helpers.feedback import batch, click, impression, token
from tests.helpers.reindex_runs import HARNESS, demo_site
from tests.helpers.reindex_runs import run_reindex as _run
from tests.helpers.reindex_runs import site_settings as _settings


@pytest.fixture
def site(tmp_path: Path) -> dict[str, str]:
    """A demo catalogue on SQLite; returns the environment for subprocess runs."""
    return demo_site(tmp_path / "data")


def _state(env: dict[str, str]) -> tuple[str | None, set[str], int, int]:
    """(serving build, build ids of stored list rows, list rows, embedding rows)."""
    settings = _settings(env)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        build_ids = set(session.scalars(select(RelatedItem.build_id).distinct()))
        rows = session.scalar(select(func.count()).select_from(RelatedItem)) or 0
        vectors = session.scalar(select(func.count()).select_from(Embedding)) or 0
    engine.dispose()
    return IndexStore(settings.index_dir).current_id(), build_ids, rows, vectors


def _touch_articles(env: dict[str, str], count: int) -> None:
    """Change the text of ``count`` articles so the next run must re-embed them."""
    engine = make_engine(_settings(env).database_url)
    with make_session_factory(engine)() as session:
        ids = list(session.scalars(select(Article.id).order_by(Article.id).limit(count)))
        session.execute(update(Article).where(Article.id.in_(ids))
                        .values(content_hash=func.upper(Article.content_hash)))
        session.commit()
    engine.dispose()


def _kill_when(env: dict[str, str], marker: str, occurrence: int, **extra: str) -> None:
    with subprocess.Popen([sys.executable, str(HARNESS)], env={**env, **extra},
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        seen = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == marker:
                seen += 1
                if seen == occurrence:
                    proc.send_signal(signal.SIGKILL)
                    break
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"


def test_summary_line_and_incremental_second_run(site: dict[str, str]) -> None:
    code, summary, _ = _run(site)
    assert code == 0 and summary["status"] == "ok"
    assert summary["embedded"] == 86 and summary["lists"] == 84
    for key in ("seen", "added", "updated", "withdrawn", "embedded", "skipped", "build_id",
                "seconds", "peak_rss_mb"):
        assert key in summary
    assert summary["mode"] == "build"
    code, again, _ = _run(site)  # nothing changed: nothing rebuilt
    assert code == 0 and again["mode"] == "unchanged" and again["embedded"] == 0
    assert again["build_id"] == summary["build_id"]
    code, dry, _ = _run(site, "--dry-run")
    assert code == 0 and dry["dry_run"] is True and dry["build_id"] is None
    _touch_articles(site, 2)  # a few changed: slotted into the lists, no rebuild
    code, few, _ = _run(site)
    assert code == 0 and few["mode"] == "incremental" and few["embedded"] == 2
    assert few["build_id"] == summary["build_id"] and few["lists"] >= 2
    # other ranking weights in the settings (or an upgrade's new defaults): the lists are stale
    code, reweighted, _ = _run(site, RELATED_RANKING_SEMANTIC_WEIGHT="0.6")
    assert code == 0 and reweighted["mode"] == "build" and reweighted["embedded"] == 0
    code, settled, _ = _run(site, RELATED_RANKING_SEMANTIC_WEIGHT="0.6")
    assert code == 0 and settled["mode"] == "unchanged"
    code, forced, _ = _run(site, "--full")
    assert code == 0 and forced["mode"] == "build" and forced["embedded"] == 86
    assert _state(site)[0] == forced["build_id"] != summary["build_id"]


def test_killed_mid_embedding_keeps_serving_and_resumes(site: dict[str, str]) -> None:
    _, _first, _ = _run(site)
    before = _state(site)
    _touch_articles(site, 70)
    # batches of 64: the second ENCODING means the first batch's vectors were committed
    _kill_when(site, "ENCODING", 2, RR_TEST_ENCODE_DELAY="1")
    assert _state(site) == before
    code, summary, _ = _run(site)
    assert code == 0
    assert summary["embedded"] == 70 - 64  # nothing embedded twice
    current, build_ids, _, vectors = _state(site)
    assert current == summary["build_id"] and build_ids == {summary["build_id"]}
    assert vectors == 86  # nothing duplicated


def test_killed_mid_build_keeps_serving(site: dict[str, str]) -> None:
    _, first, _ = _run(site)
    before = _state(site)
    _touch_articles(site, 30)  # enough change to need a full build
    _kill_when(site, "LISTS_DONE", 1, RR_TEST_PAUSE_AFTER_LISTS="30")
    assert _state(site) == before
    assert before[0] == first["build_id"]
    builds = IndexStore(_settings(site).index_dir).builds
    # killed with its list rows spooled: only hidden work files, never what CURRENT names
    assert [p.name for p in builds.iterdir() if p.name.startswith(".lists-")]
    IndexStore(_settings(site).index_dir).load(str(before[0]), verify=True)
    killed = _builds(site, "building")
    assert len(killed) == 1  # the killed run's row: left "building" by SIGKILL
    code, summary, stderr = _run(site)
    assert code == 0 and _state(site)[0] == summary["build_id"]
    assert not [p for p in builds.iterdir() if p.name.startswith(".")]  # pruned
    # issue #17 item 15: the next run (holding the lock) marks the dead build failed, and says so
    assert _builds(site, "building") == []
    assert killed[0] in _builds(site, "failed")
    assert f"build {killed[0]}" in stderr and "interrupted" in stderr


def _builds(env: dict[str, str], status: str) -> list[str]:
    engine = make_engine(_settings(env).database_url)
    with make_session_factory(engine)() as session:
        ids = list(session.scalars(select(IndexBuild.id).where(IndexBuild.status == status)))
    engine.dispose()
    return ids


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def can_mount(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only or full file system")
    try:
        _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe))
    except subprocess.CalledProcessError:
        pytest.skip("mount is not permitted here")
    subprocess.run(["umount", str(probe)], check=True)


@pytest.mark.usefixtures("can_mount")
def test_read_only_index_dir(site: dict[str, str]) -> None:
    _run(site)
    before = _state(site)
    index_dir = str(_settings(site).index_dir)
    _mount("--bind", index_dir, index_dir)
    try:
        _mount("-o", "remount,ro,bind", index_dir)
        code, summary, err = _run(site, "--full")
    finally:
        subprocess.run(["umount", index_dir], check=True)
    assert code == 1 and summary["status"] == "failed"
    assert "Read-only file system" in err
    assert _state(site)[:3] == before[:3]


@pytest.mark.usefixtures("can_mount")
def test_disk_full(site: dict[str, str], tmp_path: Path) -> None:
    _run(site)
    before = _state(site)
    index_dir = _settings(site).index_dir
    saved = tmp_path / "saved-index"
    shutil.copytree(index_dir, saved)
    used = sum(f.stat().st_size for f in saved.rglob("*") if f.is_file())
    _mount("-t", "tmpfs", "-o", f"size={used + 64 * 1024}", "tmpfs", str(index_dir))
    try:
        shutil.copytree(saved, index_dir, dirs_exist_ok=True)
        code, summary, err = _run(site, "--full")
        assert code == 1 and summary["status"] == "failed"
        # the OS's message, or numpy's own for a short write of a vector file
        assert "No space left on device" in err or ("requested and" in err and "written" in err)
        assert _state(site)[:3] == before[:3]
        assert not [p for p in (index_dir / "builds").iterdir() if p.name.startswith(".tmp")]
    finally:
        subprocess.run(["umount", str(index_dir)], check=True)


def test_publish_during_reindex_lands_in_final_lists(site: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import recommender.jobs.build as build

    settings = _settings(site)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    rec = Recommender(settings, factory, encoder=FakeEncoder())
    full_build(rec)
    lists_done, release = threading.Event(), threading.Event()
    original = build.compute_all

    def paused(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        lists_done.set()
        release.wait(30)
        return result

    monkeypatch.setattr(build, "compute_all", paused)
    worker = threading.Thread(target=full_build, args=(rec,))
    worker.start()
    assert lists_done.wait(60)
    with factory() as session:
        source = session.scalars(select(Article).where(Article.external_id == "demo-015")).one()
        other = session.scalars(select(Article).where(Article.external_id == "demo-041")).one()
        half = source.body.split("\n\n")
        new = Article(external_id="late-1", url="https://meridian.example/late-1",
                      title="Chip export controls tighten again", dek=source.dek,
                      body="\n\n".join([*half[:len(half) // 2 + 1], other.body]),
                      tags=source.tags, authors=source.authors, section=source.section,
                      content_type="news", status="published", published_at=source.published_at,
                      content_hash="late", word_count=280)
        session.add(new)
        session.commit()
        rec.refresh(session, [new.id])
        new_id, source_id = new.id, source.id
    release.set()
    worker.join(60)
    with factory() as session:
        own = session.scalars(select(RelatedItem).where(RelatedItem.article_id == new_id)).all()
        holders = set(session.scalars(select(RelatedItem.article_id)
                                      .where(RelatedItem.target_id == new_id)))
    engine.dispose()
    assert own, "the article published mid-build lost its own list"
    assert source_id in holders, "the article published mid-build is missing from its neighbour"


def test_the_nightly_run_rolls_up_and_prunes_feedback(site: dict[str, str]) -> None:
    engine = make_engine(_settings(site).database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        for days_ago in (3, 0):
            view = token()
            store(session, parse_batch(batch(impression("demo-001", ["demo-002", "demo-003"], view),
                                             click("demo-001", "demo-003", 2, view))),
                  now=utcnow() - timedelta(days=days_ago))
        session.commit()
    code, summary, _ = _run(site, RELATED_EVENTS_RETENTION_DAYS="2", RELATED_EXPOSURE_CAP="0.01")
    assert code == 0, summary
    assert summary["exposure"]["cap"] == 0.01 and summary["exposure"]["moved"] >= 0
    assert summary["exposure"]["top_after"] <= summary["exposure"]["limit"]
    assert summary["feedback"] == {"events_days_rolled_up": 3, "events_rollup_rows": 3,
                                   "events_pruned": 4}
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackEvent)) == 4  # today's
        assert session.scalar(select(func.sum(FeedbackDaily.clicks))) == 2  # box + position 2
    engine.dispose()


def test_a_plain_run_withdraws_what_the_site_withdrew(sqlite_session: Session) -> None:
    """Without --full, WordPress is asked only for changed posts, but also for the ids of every
    post it still has: a post deleted on the site is withdrawn the same night."""
    from datetime import UTC, datetime, timedelta

    from recommender.jobs import reindex
    from recommender.storage.schema import IndexBuild
    from tests.helpers.sites import serve_site

    with serve_site() as fake:
        spec = f"wordpress:{fake.url('')}"
        reindex.sync_sources(sqlite_session, [spec], full=True, summary=reindex.Summary())
        sqlite_session.add(IndexBuild(id="b1", model_id="m", dimension=3, status="ready",
                                      started=datetime.now(UTC) - timedelta(hours=1)))
        sqlite_session.commit()
        del fake.posts[0]  # wp-101 deleted on the site
        summary = reindex.Summary()
        reindex.sync_sources(sqlite_session, [spec], full=False, summary=summary)
        assert summary.withdrawn == 1
        assert any("modified_after" in r for r in fake.requests)
        status = sqlite_session.scalar(select(Article.status).where(Article.source_id == "wp-101"))
        assert status == "unpublished"


def test_only_this_hosts_dead_builds_are_marked_failed(session: Session) -> None:
    """Another host sharing the database may be building right now: its row is left alone."""
    stamp = builder_stamp()
    rows = {"mine": {**stamp, "pid": 1}, "legacy": {}, "elsewhere": {"host": "other", "pid": 1}}
    for build_id, stats in rows.items():
        session.add(IndexBuild(id=build_id, model_id="m", dimension=3, status="building",
                               stats=stats))
    session.add(IndexBuild(id="done", model_id="m", dimension=3, status="ready"))
    session.commit()
    assert sorted(fail_interrupted_builds(session)) == ["legacy", "mine"]
    status = {row.id: row.status for row in session.execute(select(IndexBuild.id, IndexBuild.status))}
    assert status == {"mine": "failed", "legacy": "failed", "elsewhere": "building", "done": "ready"}
    assert "interrupted" in session.get(IndexBuild, "mine").stats["error"]  # type: ignore[union-attr]
