"""A request id on every response (``X-Request-ID``) and on every log line written while the
request runs, so a reader's report ("request 3f2a…") finds its access and error log lines.

An id sent by a proxy is kept when it is short and plain (it lands in JSON and headers unescaped),
otherwise a fresh one is made. gunicorn's access log ends with the response's header
(``web.server.ACCESS_LOG_FORMAT``); the app's own records (the ``web`` logger, which is Flask's
``app.logger``, and the library's ``recommender`` logger) go to the error log through one handler
that stamps each with the id.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask.logging import wsgi_errors_stream

HEADER = "X-Request-ID"
_PLAIN = re.compile(r"[A-Za-z0-9._-]{8,64}")
# gunicorn's error log format, plus the request id ("-" outside a request) and the logger.
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] [request %(request_id)s] %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
LOGGERS = ("web", "recommender")


def current() -> str:
    """This request's id (assigned before any view runs)."""
    request_id: str = g.get("request_id") or ""
    if not request_id:
        request_id = g.request_id = uuid.uuid4().hex
    return request_id


class RequestIdFilter(logging.Filter):
    """Stamps a record with the id of the request it was logged in ("-" outside one).

    It reads the id and never makes one: a record logged before the id is assigned says "-"
    rather than an id the response would not carry.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = (g.get("request_id") or "-") if has_request_context() else "-"
        return True


def _error_log_handler() -> logging.Handler:
    # wsgi.errors is the server's error log (gunicorn's), sys.stderr outside a request.
    handler: logging.Handler = logging.StreamHandler(wsgi_errors_stream)  # type: ignore[call-overload]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    return handler


ERROR_LOG_HANDLER = _error_log_handler()  # one per process, however many apps are made


def init_app(app: Flask) -> None:
    for name in LOGGERS:  # Flask then adds no default handler of its own to app.logger ("web")
        logger = logging.getLogger(name)
        if ERROR_LOG_HANDLER not in logger.handlers:
            logger.addHandler(ERROR_LOG_HANDLER)

    @app.before_request
    def assign() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _PLAIN.fullmatch(incoming) else uuid.uuid4().hex

    @app.after_request
    def echo(response: Response) -> Response:
        response.headers[HEADER] = current()
        return response
