"""Cost of the recommendation core, printed as figures (never asserted in tests).

    python benchmarks/bench_core.py demo            # real model: cold, warm, 1%-changed builds
    python benchmarks/bench_core.py dataset DIR     # the same on a ../shared/data set
    python benchmarks/bench_core.py synthetic N     # N synthetic articles, synthetic vectors
    python benchmarks/bench_core.py rebuild DIR     # full build of a data dir loaded before
    python benchmarks/bench_core.py preview N       # live draft preview latency, real model
    python benchmarks/bench_core.py nightly N       # nightly run on N stored: unchanged, 100 changed

Any mode takes ``--engine ray`` (or ``--engine=ray``): every build then runs ``reindex --engine
ray`` (a local Ray started by each run unless RELATED_RAY_ADDRESS names one; docs/cluster.md).

Every build runs as ``related-reading reindex`` in a subprocess, so peak RSS is that process's.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import synthetic  # noqa: E402
from recommender.cli.main import DEMO_DIR  # noqa: E402
from recommender.embedding.encoder import BUNDLED_MODEL_ID  # noqa: E402
from recommender.settings import Settings  # noqa: E402
from recommender.storage import migrations as migrate  # noqa: E402
from recommender.storage.engine import make_engine, make_session_factory  # noqa: E402
from recommender.storage.schema import Article  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


ENGINE: list[str] = []  # --engine ray: every build on Ray


def reindex(data_dir: Path, *args: str) -> dict[str, object]:
    env = {**os.environ, "RELATED_DATA_DIR": str(data_dir)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "recommender", "reindex", "--quiet", *ENGINE, *args],
                          env=env, capture_output=True, text=True, check=False)
    with (data_dir / "reindex.log").open("a") as log:  # the stages' times and peak RSS
        log.write(proc.stderr)
    summary: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds (user + system) of the run: on a shared machine wall time varies 5x with
    # the load, CPU time much less
    summary["cpu_seconds"] = round(after.ru_utime + after.ru_stime - before.ru_utime
                                   - before.ru_stime, 1)
    if proc.returncode != 0:
        raise SystemExit(f"reindex failed: {summary.get('error')}\n{proc.stderr[-2000:]}")
    return summary


def line(label: str, s: dict[str, object]) -> None:
    t = s["timings"]
    assert isinstance(t, dict)
    print(f"{label:<22} embedded {s['embedded']:>6}  total {s['seconds']:>8.1f} s  "
          f"embed {t.get('embed', 0):>7.1f}  index {t.get('index', 0):>6.1f}  "
          f"smooth {t.get('smooth', 0):>6.1f}  "
          f"lists {t.get('lists', 0):>7.1f}  swap {t.get('swap', 0):>5.1f}  "
          f"peak RSS {s['peak_rss_mb']} MB  CPU {s.get('cpu_seconds')} s  "
          f"({s['index_kind']}, {s['lists']} lists)", flush=True)


def with_recall(data_dir: Path, summary: dict[str, object]) -> None:
    """End with the reindex summary as one JSON line, plus list recall@10 against exact search
    on 1,000 sampled pages (recommender/jobs/recall.py)."""
    from recommender.jobs.recall import list_recall_at_10

    settings = Settings.from_env({**os.environ, "RELATED_DATA_DIR": str(data_dir)})
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    recall = list_recall_at_10(make_session_factory(engine), settings)
    engine.dispose()
    print(f"  list recall@10 against exact search: {recall} "
          f"({time.perf_counter() - started:.0f} s to measure)", flush=True)
    print(json.dumps({**summary, "list_recall_at_10": recall}), flush=True)


def touch(data_dir: Path, share: float) -> int:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(data_dir)})
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        total = session.scalar(select(func.count()).select_from(Article)) or 0
        n = max(1, round(total * share))
        ids = list(session.scalars(select(Article.id).order_by(Article.id).limit(n)))
        session.execute(update(Article).where(Article.id.in_(ids))
                        .values(body=Article.body + " (corrected)",
                                content_hash=func.upper(Article.content_hash)))
        session.commit()
    engine.dispose()
    return n


def cold_warm_changed(data_dir: Path) -> None:
    cold = reindex(data_dir)
    line("cold build", cold)
    t = cold["timings"]
    assert isinstance(t, dict)
    print(f"  embedding throughput: {int(cold['embedded']) / max(t['embed'], 1e-9):.1f} articles/s")
    warm = reindex(data_dir)
    line("nothing changed", warm)
    print(f"  warm/cold time ratio: {float(warm['seconds']) / float(cold['seconds']):.3f}")
    changed = touch(data_dir, 0.01)
    one = reindex(data_dir)
    line(f"1% changed ({changed})", one)
    print(f"  embedded exactly the changed articles: {one['embedded'] == changed}")


def import_dir(data_dir: Path, files: list[Path], *, as_site: bool = False) -> None:
    """Evaluation sets go through the eval loader (synthetic URLs, all published); the demo
    magazine through the site's own importer (its draft and unpublished article stay so)."""
    from recommender.catalog.importing import import_file
    from recommender.catalog.storing import upsert_articles
    from recommender.jobs.evaluation import _prepare

    settings = Settings.from_env({"RELATED_DATA_DIR": str(data_dir)})
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        if as_site:
            for path in files:
                import_file(session, path)
        else:
            records = [json.loads(x) for f in files for x in f.read_text().splitlines() if x.strip()]
            upsert_articles(session, _prepare(records))
        session.commit()
    engine.dispose()


def _take_engine(argv: list[str]) -> list[str]:
    """argv without ``--engine X`` / ``--engine=X``; X goes to ENGINE."""
    out = []
    it = iter(argv)
    for arg in it:
        if arg == "--engine":
            ENGINE[:] = ["--engine", next(it, "local")]
        elif arg.startswith("--engine="):
            ENGINE[:] = ["--engine", arg.split("=", 1)[1]]
        else:
            out.append(arg)
    return out


def main() -> None:
    sys.argv = _take_engine(sys.argv)
    mode = sys.argv[1] if len(sys.argv) > 1 else "demo"
    work = Path(tempfile.mkdtemp(prefix="rr-bench-"))
    print(f"# {mode} {' '.join(sys.argv[2:])} {' '.join(ENGINE)} (work dir {work}, "
          f"{os.cpu_count()} CPUs)")
    if mode == "demo":
        import_dir(work, sorted(DEMO_DIR.glob("*.jsonl")), as_site=True)
        cold_warm_changed(work)
    elif mode == "dataset":
        import_dir(work, [Path(sys.argv[2]) / "articles.jsonl"])
        cold_warm_changed(work)
    elif mode == "synthetic":
        n = int(sys.argv[2])
        settings = Settings.from_env({"RELATED_DATA_DIR": str(work)})
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        started = time.perf_counter()
        with make_session_factory(engine)() as session:
            synthetic.load(session, n, BUNDLED_MODEL_ID)
        engine.dispose()
        print(f"loaded {n} synthetic articles + vectors in {time.perf_counter() - started:.1f} s")
        summary = reindex(work)
        line(f"build of {n}", summary)
        with_recall(work, summary)
    elif mode == "rebuild":  # a catalogue loaded by an earlier run: measure the build alone
        work = Path(sys.argv[2])
        shutil.rmtree(work / "index", ignore_errors=True)  # no build: the next run rebuilds
        summary = reindex(work)
        line("rebuild", summary)
        with_recall(work, summary)
    elif mode == "nightly":
        n = int(sys.argv[2])
        settings = Settings.from_env({"RELATED_DATA_DIR": str(work)})
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        with make_session_factory(engine)() as session:
            synthetic.load(session, n, BUNDLED_MODEL_ID)
        engine.dispose()
        line(f"first build of {n}", reindex(work))
        line("nightly, nothing changed", reindex(work))
        changed = touch(work, 100 / n)
        line(f"nightly, {changed} changed", reindex(work))
    elif mode == "preview":
        preview(work, int(sys.argv[2]))
    else:
        raise SystemExit(__doc__)


def preview(work: Path, n: int) -> None:
    from recommender.embedding.encoder import SentenceTransformerEncoder
    from recommender.live.recommender import Draft, Recommender

    settings = Settings.from_env({"RELATED_DATA_DIR": str(work)})
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        synthetic.load(session, n, BUNDLED_MODEL_ID)
    reindex(work)
    rec = Recommender(settings, factory, encoder=SentenceTransformerEncoder(threads=2))
    drafts = [json.loads(x) for x in sorted(DEMO_DIR.glob("*.jsonl"))[0].read_text().splitlines()]
    times = []
    with factory() as session:
        for i, d in enumerate(drafts[:40]):
            draft = Draft(title=d["title"], dek=d["dek"], body=d["body"], tags=tuple(d["tags"]))
            t0 = time.perf_counter()
            rec.preview(session, draft, 3)
            if i >= 5:  # first calls load the model, the build and the catalogue cache
                times.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    print(f"preview on {n} articles: median {statistics.median(times):.1f} ms, "
          f"p90 {sorted(times)[int(len(times) * 0.9)]:.1f} ms over {len(times)} drafts")


if __name__ == "__main__":
    main()
