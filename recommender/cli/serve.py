"""``related-reading serve``: the web app under gunicorn, started from import strings.

The library never imports the web layer (``web``, Flask, gunicorn): this command replaces its own
process with ``python -m gunicorn`` and names the app and its configuration as strings that
gunicorn imports in the new process. gunicorn's settings (gthread workers, ``--preload``,
prometheus-client's multiprocess directory, the hooks) live in the config module named here;
only what the command line chooses (address, workers, threads, access log) is passed as flags,
and gunicorn's flags override its config module.

``exec`` rather than a child process: signals (Ctrl-C, SIGTERM from a supervisor) reach
gunicorn's master directly and its exit status is the command's, as when gunicorn ran in-process.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from recommender import exits
from recommender.settings import Settings

CONFIG = "python:web.gunicorn_conf"  # gunicorn's settings and hooks (a module gunicorn imports)
APP = "web:create_app()"  # the app factory, called once in gunicorn's master (--preload)


def gunicorn_command(bind: str, workers: int, threads: int, *, access_log: bool = False,
                     app: str = APP) -> list[str]:
    """The argv that serves ``app`` the way ``serve`` does (benchmarks pass their own app)."""
    argv = [sys.executable, "-m", "gunicorn", "--config", CONFIG, "--bind", bind,
            "--workers", str(workers), "--threads", str(threads)]
    if access_log:
        argv += ["--access-logfile", "-"]
    return [*argv, app]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the API, the widget and the demo site (the app reads the same RELATED_* settings)."""
    del settings  # checked by main() before this runs; gunicorn's process reads them again
    if args.workers < 1 or args.threads < 1:
        print("related-reading: error: --workers and --threads must be at least 1",
              file=sys.stderr)
        return exits.USAGE
    argv = gunicorn_command(args.bind, args.workers, args.threads, access_log=args.access_log)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # does not return


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="serve the API, the widget and the demo site (gunicorn)")
    serve.add_argument("--bind", default="127.0.0.1:8000", metavar="HOST:PORT")
    serve.add_argument("--workers", type=int, default=2, metavar="N",
                       help="worker processes (default 2)")
    serve.add_argument("--threads", type=int, default=4, metavar="T",
                       help="threads per worker (default 4)")
    serve.add_argument("--access-log", action="store_true", help="log every request to stderr")
    serve.set_defaults(handler=cmd_serve)
