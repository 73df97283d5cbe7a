"""The nightly job under the faults it must survive: kills, read-only and full disks, a publish
mid-build (the command's answer to a held lock or a dead database: tests/cli/test_jobs.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from recommender.index.builds import IndexStore
from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import Article, Embedding, RelatedItem
from tests.helpers.fakes import FakeEncoder
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
    code, summary, _ = _run(site)
    assert code == 0 and _state(site)[0] == summary["build_id"]
    assert not [p for p in builds.iterdir() if p.name.startswith(".")]  # pruned


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
