"""A request id on every response (``X-Request-ID``), so a reader's report can be found in logs.

An id sent by a proxy is kept when it is short and plain (it lands in JSON and headers unescaped),
otherwise a fresh one is made.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
_PLAIN = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current() -> str:
    """This request's id (assigned before any view runs)."""
    request_id: str = g.get("request_id") or ""
    if not request_id:
        request_id = g.request_id = uuid.uuid4().hex
    return request_id


def init_app(app: Flask) -> None:
    @app.before_request
    def assign() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _PLAIN.fullmatch(incoming) else uuid.uuid4().hex

    @app.after_request
    def echo(response: Response) -> Response:
        response.headers[HEADER] = current()
        return response
