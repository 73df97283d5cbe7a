"""The Ray engine against the local one on the demo catalogue, on a real local Ray: the same
vectors and lists, workers killed mid-job, a run killed mid-embedding, and the command's answer
when Ray is missing or unreachable (the previous build still serving).

One local Ray (2 CPUs, 127.0.0.1) serves the whole session; the engine finds it initialised and
uses it. If Ray cannot be imported the tests skip with that reason (CI installs the ``ray``
extra, so there they run).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from recommender import exits
from recommender.index.builds import IndexStore
from recommender.jobs.build import full_build
from recommender.jobs.engine import Block, EngineUnavailable, Progress
from recommender.jobs.ray_engine import EmbeddingFailed
from recommender.live.recommender import Recommender
from recommender.ranking.context import RankingContext
from recommender.settings import Settings
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import Article, Curation, Embedding, RelatedItem
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder
from tests.helpers.ray_faults import (
    DyingOnceCurations,
    DyingOnceEncoder,
    PoisonEncoder,
    fake_ray_package,
)

ROOT = Path(__file__).resolve().parents[2]
Snapshot = tuple[list[tuple[Any, ...]], dict[int, bytes]]


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """A local Ray for the session; its workers import ``recommender`` and ``tests`` from here."""
    try:
        import ray
    except ImportError as exc:
        pytest.skip(f"Ray is not installed ({exc}); CI installs it with the 'ray' extra")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([old] if old else [])])
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    yield str(ray.get_runtime_context().gcs_address)
    ray.shutdown()


def _engine(address: str, factory: Any = FakeEncoder, **kwargs: Any) -> Any:
    from recommender.jobs.ray_engine import RayEngine

    return RayEngine("", factory, pages_per_block=16, **kwargs)  # 84 pages: 6 blocks


def _site(root: Path) -> tuple[Recommender, Any]:
    """The demo catalogue with an editor's pin, page block and site-wide block."""
    settings = Settings.from_env({"RELATED_DATA_DIR": str(root)})
    engine, factory = load_demo(settings)
    with factory() as session:
        ids = list(session.scalars(select(Article.id).order_by(Article.id)))
        session.add_all([
            Curation(kind="pin", article_id=ids[0], target_id=ids[40], position=1, created_by="t"),
            Curation(kind="block", article_id=ids[1], target_id=ids[2], created_by="t"),
            Curation(kind="block", article_id=None, target_id=ids[3], created_by="t")])
        session.commit()
    return Recommender(settings, factory, encoder=FakeEncoder()), engine


def _snapshot(rec: Recommender) -> Snapshot:
    """(every stored list row without its build id and time, every vector by article)."""
    with rec.session_factory() as session:
        rows = [(r.article_id, r.target_id, r.position, r.score, r.signals, r.fallback)
                for r in session.scalars(select(RelatedItem).order_by(RelatedItem.article_id,
                                                                      RelatedItem.position))]
        vectors = {e.article_id: e.vector for e in session.scalars(select(Embedding))}
    return rows, vectors


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The local engine's build of the curated demo: the reference."""
    rec, engine = _site(tmp_path_factory.mktemp("local"))
    full_build(rec)
    snapshot = _snapshot(rec)
    engine.dispose()
    return snapshot


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Recommender]:
    rec, engine = _site(tmp_path / "ray")
    yield rec
    engine.dispose()


def test_the_ray_engine_stores_the_local_engines_vectors_and_lists(
        ray_address: str, local: Snapshot, site: Recommender) -> None:
    report = full_build(site, engine=_engine(ray_address))
    assert (report.embedded, report.lists) == (86, 84)
    rows, vectors = _snapshot(site)
    assert rows and rows == local[0]  # same ids, order, scores and signals, pins and blocks kept
    assert vectors == local[1]
    again = full_build(site, engine=_engine(ray_address))
    assert again.embedded == 0 and _snapshot(site)[0] == local[0]


def test_a_killed_embedding_actor_is_restarted_and_the_build_completes(
        ray_address: str, local: Snapshot, site: Recommender, tmp_path: Path) -> None:
    marker = tmp_path / "embed-killed"
    factory = functools.partial(DyingOnceEncoder, str(marker))
    report = full_build(site, engine=_engine(ray_address, factory))
    assert marker.exists()  # an actor really died
    assert (report.embedded, report.lists) == (86, 84)
    assert _snapshot(site) == local


class _KillingListsEngine:
    """The Ray engine, its lists tasks handed curations that kill the first worker to read them."""

    def __new__(cls, address: str, marker: Path) -> Any:
        engine = _engine(address)
        plain = engine.lists

        def lists(context: RankingContext, store: IndexStore, build_id: str, now: datetime,
                  progress: Progress | None) -> Iterator[Block]:
            curations = DyingOnceCurations(pins=context.curations.pins,
                                           blocks=context.curations.blocks,
                                           site_blocks=context.curations.site_blocks,
                                           marker=str(marker))
            return plain(dataclasses.replace(context, curations=curations), store, build_id,
                         now, progress)

        engine.lists = lists
        return engine


def test_a_killed_lists_worker_is_retried_and_the_lists_are_the_same(
        ray_address: str, local: Snapshot, site: Recommender, tmp_path: Path) -> None:
    marker = tmp_path / "lists-killed"
    report = full_build(site, engine=_KillingListsEngine(ray_address, marker))
    assert marker.exists()
    assert report.lists == 84
    assert _snapshot(site) == local


def test_a_run_that_fails_mid_embedding_keeps_its_vectors_and_the_next_embeds_the_rest(
        ray_address: str, local: Snapshot, site: Recommender) -> None:
    with site.session_factory() as session:
        poison = session.scalars(select(Article.title).order_by(Article.id).offset(70)).first()
    assert poison
    with pytest.raises(EmbeddingFailed, match="22 of 86 articles could not be embedded"):
        full_build(site, engine=_engine(ray_address, functools.partial(PoisonEncoder, poison),
                                        actors=1))
    kept = len(_snapshot(site)[1])
    assert kept == 64 and site.store.current_id() is None  # every batch but the poisoned one
    report = full_build(site, engine=_engine(ray_address))
    assert report.embedded == 86 - kept
    assert _snapshot(site) == local


# -- the command ---------------------------------------------------------------------------------

def _built_site(root: Path) -> tuple[dict[str, str], str]:
    """A demo site built by the local engine; (environment for the command, serving build)."""
    rec, engine = _site(root)
    build_id = full_build(rec).build_id
    engine.dispose()
    env = {**os.environ, "RELATED_DATA_DIR": str(root), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("RELATED_DATABASE_URL", None)
    return env, build_id


def _stored(root: Path) -> Snapshot:
    engine = make_engine(f"sqlite:///{root / 'related.db'}")
    rec = Recommender(Settings.from_env({"RELATED_DATA_DIR": str(root)}),
                      make_session_factory(engine))
    snapshot = _snapshot(rec)
    engine.dispose()
    return snapshot


def _reindex(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run([sys.executable, "-m", "recommender", "reindex", "--quiet", *args],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_without_ray_installed_the_command_says_so_and_changes_nothing(tmp_path: Path) -> None:
    env, build_id = _built_site(tmp_path / "site")
    fake = fake_ray_package(tmp_path / "no-ray")
    code, summary, stderr = _reindex({**env, "PYTHONPATH": f"{fake}{os.pathsep}{ROOT}"},
                                     "--engine", "ray")
    assert code == exits.USAGE
    assert "Ray with Ray Data, which is not installed" in summary["error"]
    assert "related-reading[ray]" in stderr
    assert "Traceback" not in stderr
    assert IndexStore(tmp_path / "site" / "index").current_id() == build_id


def test_an_unreachable_ray_address_fails_with_the_previous_build_serving(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed; CI installs it with the 'ray' extra")
    env, build_id = _built_site(tmp_path / "site")
    before = _stored(tmp_path / "site")
    code, summary, stderr = _reindex({**env, "RELATED_RAY_ADDRESS": "127.0.0.1:9"},
                                     "--engine", "ray")
    assert code == exits.FAILED
    assert "cannot reach the Ray cluster at 127.0.0.1:9" in summary["error"]
    assert "Traceback" not in stderr
    assert IndexStore(tmp_path / "site" / "index").current_id() == build_id
    assert _stored(tmp_path / "site") == before  # lists and vectors untouched
    code, summary, _ = _reindex({**env, "RELATED_RAY_ADDRESS": "no-port"}, "--engine", "ray")
    assert code == exits.USAGE and "RELATED_RAY_ADDRESS" in summary["error"]


def test_an_engine_error_is_raised_before_anything_changes() -> None:
    pytest.importorskip("ray", reason="Ray is not installed; CI installs it with the 'ray' extra")
    from recommender.jobs.ray_engine import probe

    with pytest.raises(EngineUnavailable) as caught:
        probe("127.0.0.1:9", timeout=2)
    assert caught.value.exit_code == exits.FAILED


@pytest.mark.model
def test_reindex_engine_ray_with_the_real_model_equals_the_local_engine(
        ray_address: str, tmp_path: Path) -> None:
    """End to end: ``related-reading reindex`` on the demo, local and ``--engine ray`` (on the
    session's Ray, through RELATED_RAY_ADDRESS), give the same vectors to 1e-5 and lists."""
    results = []
    for name, args in (("local", ()), ("ray", ("--engine", "ray"))):
        root = tmp_path / name
        engine, _ = load_demo(Settings.from_env({"RELATED_DATA_DIR": str(root)}))
        engine.dispose()
        env = {**os.environ, "RELATED_DATA_DIR": str(root), "RELATED_RAY_ADDRESS": ray_address,
               "PYTHONPATH": str(ROOT)}
        env.pop("RELATED_DATABASE_URL", None)
        code, summary, stderr = _reindex(env, *args)
        assert code == exits.OK, stderr[-3000:]
        assert (summary["engine"], summary["embedded"], summary["lists"]) == (name, 86, 84)
        results.append(_stored(root))
    (local_rows, local_vectors), (ray_rows, ray_vectors) = results
    for article, vector in local_vectors.items():
        np.testing.assert_allclose(np.frombuffer(ray_vectors[article], dtype=np.float32),
                                   np.frombuffer(vector, dtype=np.float32), atol=1e-5)
    assert [r[:3] for r in ray_rows] == [r[:3] for r in local_rows]


def test_eval_gives_the_same_figures_on_either_engine(ray_address: str, tmp_path: Path) -> None:
    from recommender.jobs.evaluation import evaluate
    from tests.helpers.eval_sets import demo_records, write_set

    write_set(tmp_path / "demo-tags", demo_records())
    results = [evaluate(tmp_path / "demo-tags", FakeEncoder(),
                        Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / name)}),
                        build_engine=engine)
               for name, engine in (("local", None), ("ray", _engine(ray_address)))]
    assert results[0]["metrics"] and results[0]["metrics"] == results[1]["metrics"]
    assert results[0]["baseline"] == results[1]["baseline"]


def test_a_bad_actor_count_is_a_usage_error(tmp_path: Path) -> None:
    env, build_id = _built_site(tmp_path / "site")
    code, summary, _ = _reindex(env, "--engine", "ray", "--ray-actors", "0")
    assert code == exits.USAGE and "--ray-actors must be at least 1" in summary["error"]
    assert IndexStore(tmp_path / "site" / "index").current_id() == build_id
