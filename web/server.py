"""``related-reading serve``: the app under gunicorn, configured the way production runs it.

gthread workers (readers' requests mostly wait on SQLite or PostgreSQL), ``--preload`` (the app is
built once in the master and forked, so workers start at once and share its memory) and
prometheus-client's multiprocess mode, so ``/metrics`` sums every worker whichever one answers.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from recommender.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _when_ready(_server: Any) -> None:
    # The preloaded app's objects never die: keep the collector from rescanning them in every
    # worker (it costs readers' latency) and from touching their pages (which un-shares them).
    gc.collect()
    gc.freeze()


def _child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, load: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load = load
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # older gunicorns lack some (control_socket_disable)
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


def gunicorn_options(bind: str, workers: int, threads: int, *, access_log: bool = False,
                     timeout: int = 30) -> dict[str, Any]:
    """The gunicorn settings ``serve`` uses (also what the benchmark runs)."""
    options: dict[str, Any] = {
        "bind": [bind], "workers": workers, "threads": threads, "worker_class": "gthread",
        "preload_app": True, "timeout": timeout, "graceful_timeout": timeout, "keepalive": 5,
        # A 2,048-character ?url= percent-encoded can pass gunicorn's default 4,094 limit.
        "limit_request_line": 8190, "proc_name": "related-reading", "errorlog": "-",
        "when_ready": _when_ready, "child_exit": _child_exit,
        # gunicorn 27's control socket has one default path per user: two servers would collide.
        "control_socket_disable": True,
    }
    if access_log:
        options["accesslog"] = "-"
    if Path("/dev/shm").is_dir():  # heartbeat files off disk: no stalls on a slow volume
        options["worker_tmp_dir"] = "/dev/shm"
    return options


def run(load: Callable[[], Any], options: dict[str, Any]) -> int:
    """Run gunicorn over the app ``load`` returns until stopped; returns its exit status."""
    own_dir = not os.environ.get(MULTIPROC_ENV)
    directory = tempfile.mkdtemp(prefix="related-metrics-") if own_dir else os.environ[MULTIPROC_ENV]
    if not own_dir:  # counters left by a previous run would be summed into this one's
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    os.environ[MULTIPROC_ENV] = directory  # before prometheus_client is first imported
    try:
        _Gunicorn(load, options).run()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)
    return 0


def serve(settings: Settings, bind: str, workers: int, threads: int, *,
          access_log: bool = False) -> int:
    """``related-reading serve``: the app factory ``web.create_app`` under gunicorn."""
    def load() -> Any:
        from web import create_app

        return create_app(settings)

    return run(load, gunicorn_options(bind, workers, threads, access_log=access_log))
