"""The Ray engine's own overhead on the embedding stage, printed as figures (never asserted).

    python benchmarks/bench_ray.py N     # N synthetic articles embedded by the local engine and
                                         # by the Ray engine (a local Ray, 2 actors)

The encoder is the tests' hashed bag of words (microseconds per article), so what is left is
the engine: Ray's start, the actors' start, moving texts and vectors through the object store
and the driver's bulk writes. Add the model's own per-article cost (docs/cluster.md) for a real
encoder. The lists stage's overhead: ``bench_core.py synthetic N --engine ray``.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import synthetic  # noqa: E402
from recommender.catalog.storing import upsert_articles  # noqa: E402
from recommender.jobs.engine import LocalEngine  # noqa: E402
from recommender.storage import migrations  # noqa: E402
from recommender.storage.engine import make_engine, make_session_factory  # noqa: E402
from tests.helpers.fakes import FakeEncoder  # noqa: E402


def timed_embed(work: Path, n: int, engine: object) -> float:
    url = f"sqlite:///{work / 'bench.db'}"
    migrations.upgrade(url)
    db = make_engine(url)
    with make_session_factory(db)() as session:
        items = synthetic.articles(n)
        for start in range(0, n, 5000):
            upsert_articles(session, items[start:start + 5000])
            session.commit()
        t0 = time.perf_counter()
        report = engine.embed(session, FakeEncoder(384), None)  # type: ignore[attr-defined]
        seconds = time.perf_counter() - t0
    db.dispose()
    assert report.embedded == n
    return seconds


def main() -> None:
    import os

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    from recommender.jobs.ray_engine import RayEngine

    local = timed_embed(Path(tempfile.mkdtemp(prefix="rr-bray-")), n, LocalEngine())
    print(f"local engine: {n} articles embedded and stored in {local:.1f} s "
          f"({local / n * 1000:.2f} ms/article)", flush=True)
    engine = RayEngine("", functools.partial(FakeEncoder, 384), actors=2)
    t0 = time.perf_counter()
    engine.connect()
    start = time.perf_counter() - t0
    print(f"ray: local Ray started in {start:.1f} s", flush=True)
    first = timed_embed(Path(tempfile.mkdtemp(prefix="rr-bray-")), n, engine)
    again = timed_embed(Path(tempfile.mkdtemp(prefix="rr-bray-")), n, engine)
    engine.close()
    print(f"ray engine: {n} articles in {first:.1f} s (first job: actors start), "
          f"{again:.1f} s (second job) = {again / n * 1000:.2f} ms/article; overhead over "
          f"local {(again - local) / n * 1000:+.2f} ms/article", flush=True)


if __name__ == "__main__":
    main()
