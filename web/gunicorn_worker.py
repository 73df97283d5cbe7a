"""gunicorn's worker for ``related-reading serve``: gthread, answering its own errors in JSON.

gunicorn refuses some requests before the app sees them (an over-long or malformed request line,
bad headers, a broken chunked body) and answers those itself, with a small HTML page. An API
client expects the API's error shape, so this worker writes them as
``{"error": {"code": ..., "message": ...}}`` instead, on every path: gunicorn cannot know the
path of a request line it could not read, and a browser never sends such requests.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

MAX_MESSAGE = 200  # the message may quote the refused request line; keep it short


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, in the API's JSON error shape."""
    message = f"{reason}: {mesg}" if mesg else reason
    body = json.dumps({"error": {"code": status_int, "message": message[:MAX_MESSAGE]}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nCache-Control: no-store\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


class JsonErrorWorker(ThreadWorker):  # type: ignore[misc]
    """A gthread worker whose own error responses are JSON (``write_json_error``)."""

    def init_process(self) -> None:
        # gunicorn's base worker writes every error it answers itself through util.write_error;
        # this process is a worker of ours, so its errors are worded our way.
        util.write_error = write_json_error
        super().init_process()
