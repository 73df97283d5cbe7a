"""How close the readers' endpoints come to a constant JSON, under gunicorn, measured with wrk.

Builds a synthetic 10,000-article catalogue (articles and precomputed related rows written directly:
the read path needs nothing else), serves it with the same gunicorn settings as
``related-reading serve`` on 127.0.0.1, and drives three endpoints of the same app with wrk, each
over random articles of the whole catalogue:

- ``GET /api/v1/related?url=...&k=3`` (the JSON API),
- ``GET /widget/related.html?url=...&k=3`` (the widget fragment),
- ``GET /bench/constant?url=...`` a constant JSON of the same size, registered only in this
  benchmark's app: the ceiling of a precomputed lookup (Flask, gunicorn and every app hook).

Then it repeats the three with the response memo off (every request builds its list through SQL;
each ratio compares with the constant measured on the same server, interleaved), and reports
requests/s, p50 and p99 latency, the memo's hit rate and each worker's resident memory. Traffic
stays on loopback and every run is bounded in time.

    .venv/bin/python benchmarks/bench_api.py [--duration 10] [--connections 4] [--json]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

SQLite in the run's temporary directory by default; with ``--database-url`` naming a PostgreSQL
server, a private database is created on it for the run and dropped afterwards (the URL's own
database is only used to connect). Needs ``wrk`` (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "https://bench.example"
RELATED_PER_ARTICLE = 12
SECTIONS = ["Asia", "Europe", "Americas", "Middle East", "Africa", "Global", "Economy", "Security"]
WORDS = ["summit", "sanctions", "tariff", "election", "coalition", "ceasefire", "reactor",
         "pipeline", "currency", "border", "treaty", "minister", "parliament", "inflation",
         "drought", "harbour", "frigate", "refinery", "census"]


# -- the catalogue ----------------------------------------------------------------------------------

def build_catalogue(data_dir: Path, n: int, database_url: str = "", seed: int = 7) -> None:
    """n published articles, 12 related rows each, a few curations; no embeddings, no index."""
    from sqlalchemy import insert, select

    from recommender.catalog.articles import ArticleInput
    from recommender.catalog.storing import upsert_articles
    from recommender.settings import Settings
    from recommender.storage import migrations
    from recommender.storage.engine import make_engine, make_session_factory
    from recommender.storage.schema import Article, Curation, RelatedItem, utcnow

    settings = Settings.from_env({"RELATED_DATA_DIR": str(data_dir),
                                  **({"RELATED_DATABASE_URL": database_url} if database_url else {})})
    migrations.upgrade(settings.database_url)
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    items = []
    for i in range(n):
        words = rng.choices(WORDS, k=rng.randint(150, 400))
        items.append(ArticleInput(
            external_id=f"bench-{i}", url=f"{HOST}/a/{i}",
            title=f"Story {i}: the {rng.choice(WORDS)} and the {rng.choice(WORDS)}",
            dek=f"What the {rng.choice(WORDS)} means for the {rng.choice(WORDS)}, and why the "
                f"{rng.choice(WORDS)} matters now.",
            body="\n\n".join(" ".join(words[j:j + 60]) for j in range(0, len(words), 60)),
            authors=[f"Author {rng.randint(1, 60)}"], tags=[rng.choice(WORDS)],
            section=SECTIONS[i % len(SECTIONS)], content_type="analysis", language="en",
            status="published", published_at=start + timedelta(minutes=rng.randint(0, 10**6)),
            updated_at=None, image=f"{HOST}/img/{i}.jpg"))
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        for offset in range(0, n, 2000):
            upsert_articles(session, items[offset:offset + 2000])
            session.commit()
        ids = list(session.scalars(select(Article.id).order_by(Article.id)))
        now = utcnow()
        rows = []
        for article_id in ids:
            targets = rng.sample(ids, RELATED_PER_ARTICLE + 1)
            targets = [t for t in targets if t != article_id][:RELATED_PER_ARTICLE]
            rows.extend({"article_id": article_id, "target_id": t, "position": p,
                         "score": round(1.0 - p / 20, 4), "signals": {"semantic": 0.5},
                         "fallback": False, "build_id": "bench-build", "computed": now}
                        for p, t in enumerate(targets, start=1))
        for offset in range(0, len(rows), 20_000):
            session.execute(insert(RelatedItem), rows[offset:offset + 20_000])
        for target in rng.sample(ids, 5):  # site-wide blocks and pins, as on a real site
            session.add(Curation(kind="block", article_id=None, target_id=target,
                                 created_by="bench"))
        for page in rng.sample(ids, 20):
            session.add(Curation(kind="pin", article_id=page, target_id=rng.choice(ids),
                                 position=1, created_by="bench"))
        session.commit()
    if engine.dialect.name == "postgresql":
        # What autovacuum does within a minute of a bulk load: without statistics the planner
        # takes the 10,000 live articles for a handful and starts the lookup from them.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


# -- the server (a child process) ------------------------------------------------------------------

def bench_app() -> Any:
    """``web.create_app()`` plus ``/bench/constant``: a constant JSON as large as a real answer."""
    from flask import Response

    from web import create_app

    app = create_app()
    body: dict[str, bytes] = {}

    def constant() -> Response:
        return Response(body["json"], mimetype="application/json")

    app.add_url_rule("/bench/constant", "bench_constant", constant)
    sample = app.test_client().get("/api/v1/related", query_string={"url": f"{HOST}/a/1"})
    size = len(sample.data)
    body["json"] = json.dumps({"constant": "x" * size}).encode()[:size - 2] + b'"}'
    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The benchmark app under gunicorn in a child process."""

    def __init__(self, data_dir: Path, workers: int, threads: int, memo: bool,
                 database_url: str = "") -> None:
        from recommender.cli.serve import gunicorn_command

        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
        env.update(RELATED_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
        if database_url:
            env["RELATED_DATABASE_URL"] = database_url
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if not memo:
            env["FLASK_RESPONSE_CACHE_ENTRIES"] = "0"
        # Exactly what `related-reading serve` runs (its gunicorn config), with this app.
        command = gunicorn_command(f"127.0.0.1:{self.port}", workers, threads,
                                   app="benchmarks.bench_api:bench_app()")
        self.proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise RuntimeError("server exited: " + stderr[-2000:]) from None
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def memory(self) -> list[dict[str, float]]:
        """Each worker's RSS and PSS (MiB): PSS splits pages shared with --preload's master."""
        out = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            pss = int(re.search(r"Pss:\s+(\d+)", rollup).group(1))  # type: ignore[union-attr]
            out.append({"pid": pid, "rss_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1)})
        return out

    def memo_counts(self) -> tuple[float, float]:
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as response:
            text = response.read().decode()
        hits = sum(float(m) for m in re.findall(
            r'^related_response_memo_total\{result="hit"\} (\S+)$', text, re.M))
        misses = sum(float(m) for m in re.findall(
            r'^related_response_memo_total\{result="miss"\} (\S+)$', text, re.M))
        return hits, misses

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- wrk --------------------------------------------------------------------------------------------

RANDOM_LUA = """
math.randomseed({seed})
request = function()
  return wrk.format("GET", "{path}" .. math.random(0, {n} - 1) .. "{suffix}")
end
"""

def sweep(base: str, path: str, suffix: str, n: int, clients: int = 4) -> float:
    """Request every article once (keep-alive clients in threads): fills the memo; seconds."""
    from concurrent.futures import ThreadPoolExecutor
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    parts = urlsplit(base)

    def walk(start: int) -> None:
        conn = HTTPConnection(parts.hostname, parts.port, timeout=30)
        for article in range(start, n, clients):
            conn.request("GET", f"{path}{article}{suffix}")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"warm-up: HTTP {response.status} for article {article}")
        conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(walk, range(clients)))
    return time.perf_counter() - started


def wrk(base: str, script_text: str, seconds: int, connections: int, threads: int,
        workdir: Path) -> dict[str, float]:
    """requests/s, p50 and p99 (ms) and errors of one wrk run."""
    script = workdir / "wrk.lua"
    script.write_text(script_text)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "--latency", "-s", str(script), base], capture_output=True, text=True,
        timeout=seconds + 60, check=True)
    text = result.stdout

    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if match is None:
            raise RuntimeError(f"no {label} latency in wrk output:\n{text}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50_ms": latency_ms("50%"),
            "p99_ms": latency_ms("99%"), "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0}


def _median_run(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The run with the median requests/s (its own latencies), plus every round's req/s."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    middle = dict(ordered[len(ordered) // 2])
    middle["rounds_rps"] = [round(r["rps"]) for r in runs]
    middle["non_2xx"] = sum(int(r["non_2xx"]) for r in runs)
    middle["socket_errors"] = sum(int(r["socket_errors"]) for r in runs)
    return middle


# -- the run ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measured runs per endpoint, interleaved; the median is reported")
    parser.add_argument("--connections", type=int, default=4,
                        help="wrk connections (the p99 target is stated at 4)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    # gthread workers race to accept: wrk's keep-alive connections, opened in one burst, mostly
    # land on one worker, so with two the figures swing between one and two workers' capacity.
    # One worker (with wrk on the other core) compares the endpoints stably.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--skip-uncached", action="store_true",
                        help="skip the runs with the response memo off")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server to run on (a private database is created on "
                             "it and dropped); default: SQLite in a temporary directory")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench_api: wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    try:
        with private_database(args.database_url) as url:
            args.run_database_url = url
            return _run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def private_database(server_url: str) -> Iterator[str]:
    """A fresh database on this PostgreSQL server for the run ("" stays "": SQLite)."""
    if not server_url:
        yield ""
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if make_url(server_url).get_backend_name() != "postgresql":
        raise SystemExit("bench_api: --database-url must name a PostgreSQL server")
    name = f"bench_api_{os.getpid()}_{random.randrange(10**6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(args: argparse.Namespace, workdir: Path) -> int:
    started = time.perf_counter()
    build_catalogue(workdir / "data", args.articles, args.run_database_url)
    database = "PostgreSQL" if args.run_database_url else "SQLite"
    print(f"catalogue ({database}): {args.articles} articles, {RELATED_PER_ARTICLE} related rows each "
          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    url = quote(f"{HOST}/a/", safe="")
    endpoints = {"constant": ("/bench/constant?url=" + url, ""),
                 "related": ("/api/v1/related?url=" + url, "&k=3"),
                 "widget": ("/widget/related.html?url=" + url, "&k=3")}
    results: dict[str, Any] = {"articles": args.articles, "database": database,
                               "connections": args.connections,
                               "wrk_threads": args.wrk_threads, "duration_s": args.duration,
                               "rounds": args.rounds,
                               "gunicorn": {"workers": args.workers, "threads": args.threads,
                                            "worker_class": "gthread", "preload": True},
                               "cpus": os.cpu_count(), "runs": {}}
    scenarios = [(True, ["constant", "related", "widget"])]
    if not args.skip_uncached:  # the constant again, interleaved: ratios within one server's run
        scenarios.append((False, ["constant", "related", "widget"]))
    for memo, names in scenarios:
        server = Server(workdir / "data", args.workers, args.threads, memo,
                        args.run_database_url)
        try:
            for name in names:  # warm up: fill the memo with every list (or just the pools)
                path, suffix = endpoints[name]
                if memo and name != "constant":
                    seconds = sweep(server.base, path, suffix, args.articles)
                    print(f"warmed {name}: every article once in {seconds:.0f} s",
                          file=sys.stderr)
                else:
                    wrk(server.base, RANDOM_LUA.format(n=args.articles, seed=1, path=path,
                                                       suffix=suffix),
                        3, args.connections, args.wrk_threads, workdir)
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in names}
            hits0, misses0 = server.memo_counts()
            for round_no in range(args.rounds):  # interleaved, so load drifts hit all alike
                for name in names:
                    path, suffix = endpoints[name]
                    run = wrk(server.base, RANDOM_LUA.format(
                        n=args.articles, seed=100 + round_no, path=path, suffix=suffix),
                        args.duration, args.connections, args.wrk_threads, workdir)
                    rounds[name].append(run)
                    print(f"  {name:<10} round {round_no + 1}: {run['rps']:>6.0f} req/s  "
                          f"p50 {run['p50_ms']:.2f} ms  p99 {run['p99_ms']:.2f} ms",
                          file=sys.stderr)
            hits1, misses1 = server.memo_counts()
            lookups = (hits1 - hits0) + (misses1 - misses0)
            for name in names:
                key = name if memo else f"{name} (no memo)"
                results["runs"][key] = _median_run(rounds[name])
                if name != "constant":
                    results["runs"][key]["memo_hit_rate"] = (
                        round((hits1 - hits0) / lookups, 3) if lookups else 0.0)
            results["memory" if memo else "memory (no memo)"] = server.memory()
        finally:
            server.stop()
    runs = results["runs"]
    for name in ("related", "widget", "related (no memo)", "widget (no memo)"):
        if name in runs:
            ceiling = runs["constant (no memo)" if "no memo" in name else "constant"]["rps"]
            runs[name]["ratio_to_constant"] = round(runs[name]["rps"] / ceiling, 3)
    worst_rss = max(w["rss_mib"] for w in results["memory"])
    # Issue #15: the memo'd path at >= 0.9 of the constant, the uncached one at >= 0.5, p99 < 20 ms.
    results["targets"] = {
        "memo_ratio_ge_0.9": min(runs[n]["ratio_to_constant"] for n in ("related", "widget"))
        >= 0.9,
        "related_p99_lt_20ms": runs["related"]["p99_ms"] < 20,
        "worker_rss_lt_300mib": worst_rss < 300,
    }
    if "related (no memo)" in runs:
        results["targets"]["no_memo_ratio_ge_0.5"] = min(
            runs[n]["ratio_to_constant"] for n in ("related (no memo)", "widget (no memo)")) >= 0.5
    _report(results)
    if args.json:
        print(json.dumps(results))
    return 0


def _report(results: dict[str, Any]) -> None:
    g = results["gunicorn"]
    print(f"\n{results['articles']} articles ({results['database']}); gunicorn {g['workers']} "
          f"workers x {g['threads']} "
          f"threads (gthread, --preload); wrk {results['wrk_threads']} threads, "
          f"{results['connections']} connections; median of {results['rounds']} interleaved "
          f"{results['duration_s']} s runs; {results['cpus']} CPUs shared by server and wrk\n")
    print(f"{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'memo hits':>11}")
    for name, run in results["runs"].items():
        ratio = run.get("ratio_to_constant")
        hits = run.get("memo_hit_rate")
        print(f"{name:<22}{run['rps']:>9.0f}{run['p50_ms']:>9.2f}{run['p99_ms']:>9.2f}"
              f"{'' if ratio is None else f'{ratio:.2f}':>8}"
              f"{'' if hits is None else f'{hits:.0%}':>11}")
    for key in ("memory", "memory (no memo)"):
        if key in results:
            workers = ", ".join(f"RSS {w['rss_mib']} MiB (PSS {w['pss_mib']})"
                                for w in results[key])
            print(f"{key}: {workers}")
    print("targets: " + ", ".join(f"{k} {'yes' if v else 'NO'}"
                                  for k, v in results["targets"].items()))


if __name__ == "__main__":
    sys.exit(main())
