"""What the feedback endpoint takes, and what it costs the readers: ``POST /api/v1/events`` under
gunicorn (2 workers, as ``related-reading serve`` runs them), on SQLite and on PostgreSQL.

1. **Events/s**: wrk posts batches of 10 impressions (3 teasers each, random pages and fresh
   tokens, ``text/plain`` as sendBeacon sends them) for ``--duration`` seconds; events/s = 10 x
   requests/s, with p50/p99 latency. Every 204 means committed: the stored rows are counted
   afterwards and must match the acknowledged events.
2. **The readers' cost**: the widget fragment alone (wrk, random articles), then the same while a
   paced client streams events at ``--stream-rate`` events/s (default 500) in batches of 10; the
   drop in widget requests/s is reported.

Targets (issue #16): >= 1,500 events/s with p99 < 50 ms on both databases; the widget's
requests/s drop by less than 5% at 500 events/s. Figures are printed, never asserted.

    .venv/bin/python benchmarks/bench_events.py [--duration 10] [--articles 2000]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--json]

Needs ``wrk``; PostgreSQL runs in a private schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_api import RANDOM_LUA, _free_port, wrk  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0"
HOST = "https://bench.example"
EVENTS_LUA = """
math.randomseed({seed})
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
wrk.headers["User-Agent"] = "{ua}"
local hex = "0123456789abcdef"
local function token()
  local t = {{}}
  for i = 1, 32 do local r = math.random(1, 16); t[i] = hex:sub(r, r) end
  return table.concat(t)
end
local function id() return '"bench-' .. math.random(0, {n} - 1) .. '"' end
request = function()
  local events = {{}}
  for i = 1, 10 do
    events[i] = '{{"type":"impression","page":' .. id() .. ',"token":"' .. token() ..
      '","arm":"default","items":[' .. id() .. ',' .. id() .. ',' .. id() .. ']}}'
  end
  return wrk.format(nil, "/api/v1/events", nil, '{{"events":[' .. table.concat(events, ",") .. ']}}')
end
"""


def build_catalogue(url: str, n: int, seed: int = 16) -> None:
    """n published articles with 12 related rows each, written directly (no model, no index)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from recommender.storage import migrations
    from recommender.storage.engine import make_engine, make_session_factory
    from recommender.storage.schema import Article, RelatedItem, utcnow

    migrations.upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with make_session_factory(engine)() as session:
        session.execute(insert(Article), [
            {"id": i + 1, "external_id": f"bench-{i}", "url": f"{HOST}/a/{i}",
             "title": f"Story {i}", "dek": "A dek.", "body": "Words. " * 50, "authors": [],
             "tags": [], "section": "World", "status": "published",
             "published_at": start + timedelta(hours=i), "word_count": 300,
             "content_hash": f"{i:064d}"} for i in range(n)])
        now = utcnow()
        session.execute(insert(RelatedItem), [
            {"article_id": i + 1, "target_id": t + 1, "position": p, "score": 1.0 / p,
             "signals": {}, "fallback": False, "build_id": "bench", "computed": now}
            for i in range(n)
            for p, t in enumerate(rng.sample([x for x in range(n) if x != i][:200], 12), 1)])
        session.commit()
    engine.dispose()


class Server:
    """``web:create_app()`` under gunicorn (serve's config) in a child process."""

    def __init__(self, env: dict[str, str], workers: int, threads: int) -> None:
        from recommender.cli.serve import gunicorn_command

        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
        full.update(env, PYTHONPATH=str(ROOT), RELATED_EVENTS_RATE_LIMIT="0")
        full.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = gunicorn_command(f"127.0.0.1:{self.port}", workers, threads)
        self.proc = subprocess.Popen(command, env=full, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited") from None
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def stream(base: str, rate: float, n: int, stop: threading.Event, sent: list[int]) -> None:
    """Batches of 10 events at ``rate`` events/s (paced, one keep-alive connection)."""
    parts = urlsplit(base)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
    rng = random.Random(5)
    interval, due = 10.0 / rate, time.monotonic()
    while not stop.is_set():
        events = [{"type": "impression", "page": f"bench-{rng.randrange(n)}",
                   "token": uuid.uuid4().hex, "items": [f"bench-{rng.randrange(n)}"]}
                  for _ in range(10)]
        conn.request("POST", "/api/v1/events", json.dumps({"events": events}),
                     {"Content-Type": "text/plain", "User-Agent": UA})
        response = conn.getresponse()
        response.read()
        sent[0] += 10 if response.status == 204 else 0
        due += interval
        time.sleep(max(0.0, due - time.monotonic()))
    conn.close()


def cpu_cost(url: str, n: int, articles: int) -> dict[str, float]:
    """CPU ms per batch of 10 (and per widget fragment) in this process through the test client:
    a figure that holds on a busy machine, where wrk's requests/s only say what was left over."""
    from recommender.settings import Settings
    from web import create_app

    app = create_app(Settings.from_env({"RELATED_DATABASE_URL": url,
                                        "RELATED_EVENTS_RATE_LIMIT": "0"}))
    client, rng = app.test_client(), random.Random(9)

    def body() -> str:
        return json.dumps({"events": [
            {"type": "impression", "page": f"bench-{rng.randrange(articles)}",
             "token": uuid.uuid4().hex,
             "items": [f"bench-{rng.randrange(articles)}" for _ in range(3)]}
            for _ in range(10)]})

    bodies = [body() for _ in range(n)]
    started = time.process_time()
    for payload in bodies:
        response = client.post("/api/v1/events", data=payload, content_type="text/plain",
                               headers={"User-Agent": UA})
        assert response.status_code == 204, response.data
    events_ms = (time.process_time() - started) / n * 1000
    started = time.process_time()
    for _ in range(n):
        client.get(f"/widget/related.html?k=3&url={HOST}/a/{rng.randrange(articles)}")
    widget_ms = (time.process_time() - started) / n * 1000
    app.extensions["related"].engine.dispose()
    return {"cpu_ms_per_batch": round(events_ms, 2),
            "events_per_cpu_s": round(10_000 / events_ms),
            "cpu_ms_per_widget": round(widget_ms, 2)}


def stored(url: str) -> int:
    from sqlalchemy import func, select

    from recommender.storage.engine import make_engine
    from recommender.storage.feedback_tables import FeedbackEvent

    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(FeedbackEvent)
                             .where(FeedbackEvent.position == 0)).scalar() or 0
    engine.dispose()
    return int(count)


def run_database(label: str, url: str, env: dict[str, str], args: argparse.Namespace,
                 workdir: Path) -> dict[str, Any]:
    build_catalogue(url, args.articles)
    cost = cpu_cost(url, 300, args.articles)
    server = Server({**env, "RELATED_DATABASE_URL": url}, args.workers, args.threads)
    try:
        before = stored(url)
        events = wrk(server.base, EVENTS_LUA.format(seed=3, n=args.articles, ua=UA),
                     args.duration, args.connections, args.wrk_threads, workdir)
        acknowledged = round(events["rps"] * args.duration) * 10  # wrk's rate x its duration
        kept = stored(url) - before
        widget_lua = RANDOM_LUA.format(seed=1, n=args.articles,
                                       path=f"/widget/related.html?k=3&url={quote(HOST)}%2Fa%2F",
                                       suffix="")
        alone = wrk(server.base, widget_lua, args.duration, args.connections, args.wrk_threads,
                    workdir)
        stop, sent = threading.Event(), [0]
        streamer = threading.Thread(target=stream, args=(server.base, args.stream_rate,
                                                         args.articles, stop, sent))
        streamer.start()
        try:
            loaded = wrk(server.base, widget_lua, args.duration, args.connections,
                         args.wrk_threads, workdir)
        finally:
            stop.set()
            streamer.join()
    finally:
        server.stop()
    return {"database": label, **cost, "events_per_s": round(events["rps"] * 10),
            "events_p50_ms": events["p50_ms"], "events_p99_ms": events["p99_ms"],
            "events_non_2xx": events["non_2xx"], "events_acknowledged_approx": acknowledged,
            "events_stored": kept, "widget_rps_alone": round(alone["rps"]),
            "widget_rps_with_events": round(loaded["rps"]),
            "widget_drop_pct": round(100 * (1 - loaded["rps"] / alone["rps"]), 1)
            if alone["rps"] else None,
            "streamed_events_per_s": round(sent[0] / args.duration),
            "widget_p99_ms_alone": alone["p99_ms"], "widget_p99_ms_with_events": loaded["p99_ms"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--stream-rate", type=float, default=500.0, help="events/s while the "
                                                                        "widget is measured")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", ""),
                        help="PostgreSQL URL (a private schema is made and dropped)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench_events: wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    workdir = Path(tempfile.mkdtemp(prefix="bench-events-"))
    results = []
    try:
        env = {"RELATED_DATA_DIR": str(workdir / "data")}
        results.append(run_database("sqlite", f"sqlite:///{workdir / 'events.db'}", env, args,
                                    workdir))
        if args.pg_url:
            results.append(_postgres(args, env, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load = os.getloadavg()[0]
    for r in results:
        print(f"{r['database']:>10} in-process: {r['cpu_ms_per_batch']} ms CPU per batch of 10 "
              f"({r['events_per_cpu_s']} events per CPU-second), {r['cpu_ms_per_widget']} ms "
              f"CPU per widget fragment")
        print(f"{r['database']:>10}: {r['events_per_s']} events/s (batches of 10, "
              f"{args.workers} workers), p50 {r['events_p50_ms']:.1f} ms, p99 "
              f"{r['events_p99_ms']:.1f} ms, {r['events_non_2xx']} non-2xx, "
              f"{r['events_stored']} stored of ~{r['events_acknowledged_approx']} acknowledged; "
              f"widget {r['widget_rps_alone']} req/s alone, {r['widget_rps_with_events']} with "
              f"{r['streamed_events_per_s']} events/s streaming ({r['widget_drop_pct']}% drop)")
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs at the end: on a shared machine the "
          "served figures are what other processes left over")
    if args.json:
        print(json.dumps(results))
    return 0


def _postgres(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    schema = f"bench_events_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.pg_url else "?"
    try:
        return run_database("postgresql", f"{args.pg_url}{sep}options=-csearch_path%3D{schema}",
                            env, args, workdir)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
