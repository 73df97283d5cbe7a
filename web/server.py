"""How ``related-reading serve`` runs the app under gunicorn: the settings and the server hooks.

gthread workers (readers' requests mostly wait on SQLite or PostgreSQL; ``web.gunicorn_worker``
answers gunicorn's own errors in JSON), ``--preload`` (the app is built once in the master and
forked, so workers start at once and share its memory) and
prometheus-client's multiprocess mode, so ``/metrics`` sums every worker whichever one answers.
``web.gunicorn_conf`` hands these to gunicorn; the command line adds the address, the worker and
thread counts and the access log.
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# gunicorn's default (combined log format) plus the id the API returned in X-Request-ID, so a
# reader's report ("request 3f2a…") finds its access line, and the app's error lines name it too.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'


def _when_ready(_server: Any) -> None:
    # The preloaded app's objects never die: keep the collector from rescanning them in every
    # worker (it costs readers' latency) and from touching their pages (which un-shares them).
    gc.collect()
    gc.freeze()


def _child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_options(*, timeout: int = 30) -> dict[str, Any]:
    """gunicorn's settings for ``serve`` (and the benchmark), bar bind, workers, threads and
    the access log, which its command line gives."""
    options: dict[str, Any] = {
        "worker_class": "web.gunicorn_worker.JsonErrorWorker", "preload_app": True, "timeout": timeout,
        "graceful_timeout": timeout, "keepalive": 5,
        # A 2,048-character ?url= percent-encoded can pass gunicorn's default 4,094 limit.
        "limit_request_line": 8190, "proc_name": "related-reading", "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "when_ready": _when_ready, "child_exit": _child_exit,
        # gunicorn 27's control socket has one default path per user: two servers would collide.
        "control_socket_disable": True,
    }
    if Path("/dev/shm").is_dir():  # heartbeat files off disk: no stalls on a slow volume
        options["worker_tmp_dir"] = "/dev/shm"
    return options


def claim_metrics_dir() -> str:
    """Point prometheus-client's multiprocess mode at a directory; call before it is imported.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used, emptied of the counters a previous run
    left (they would be summed into this one's). Otherwise a private temporary directory is made
    and removed when this process (gunicorn's master, not a forked worker) exits.
    """
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
        return directory
    directory = tempfile.mkdtemp(prefix="related-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # workers inherit this handler and exit first
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)
    return directory
