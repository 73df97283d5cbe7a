"""Debian's headless Chromium for the browser tests, and a throwaway HTTP server to point it at."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def serve(app: Callable[..., Any]) -> tuple[BaseWSGIServer, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app on a throwaway server for the browser: its origin, then shut down and the app's
    database engine disposed (what every browser test's fixture needs)."""
    server, origin = serve(app)
    try:
        yield origin
    finally:
        server.shutdown()
        app.extensions["related"].engine.dispose()


def watch_console(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
