"""``related-reading serve`` run for real (gunicorn, one worker), for tests that need a socket:
errors gunicorn answers itself, and schemathesis' command line against a live server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


@contextmanager
def live_server(env_extra: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """(base URL, the server's output once stopped) of ``serve`` with these RELATED_* settings."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RELATED_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(env_extra, TMPDIR=str(tmp_path), PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while not _up(base + "/healthz"):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, output
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
        output.append(out)


def raw_request(base: str, data: bytes, timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library tidies them) and parse the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        # the server may answer and close before reading everything
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@contextmanager
def serve_in_thread(app: object) -> Iterator[str]:
    """A Flask app served on a socket from this process (Werkzeug, threaded), so a test can hand
    it objects a gunicorn child could not get (the fake encoder) and still test over HTTP."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
