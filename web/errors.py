"""One error handler for the whole app: JSON for ``/api``, an empty fragment for the widget, HTML
for pages.

Views raise ``ApiError`` (or let a domain exception through); this is the only place that turns
failures into responses, so no input can produce a traceback page. A true bug still answers 500
(JSON under ``/api``), after the request's session is rolled back and the traceback logged.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from web import db

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A client-facing failure with its HTTP status and, for bad input, the parameter's name."""

    def __init__(self, code: int, message: str, parameter: str | None = None, *,
                 problems: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.parameter = parameter
        self.problems = problems  # a 422 lists every invalid item and field (web.ingest)
        self.headers = headers or {}  # e.g. WWW-Authenticate on a 401


def _describe(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException):
        return ApiError(exc.code or 500, exc.description or exc.name)
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError)
                                             and exc.connection_invalidated):
        log.error("database unavailable: %s", exc)
        return ApiError(503, "the database is unavailable; try again shortly")
    log.exception("unhandled error on %s %s", request.method, request.path)
    return ApiError(500, "internal error")


def handle(exc: Exception) -> Response:
    """Answer any failure in the form the caller can use."""
    error = _describe(exc)
    if error.code >= 500:
        db.rollback_session()
    path = request.path
    if path.startswith("/api/"):
        payload: dict[str, object] = {"code": error.code, "message": error.message}
        if error.parameter:
            payload["parameter"] = error.parameter
        if error.problems is not None:
            payload["problems"] = error.problems
        response = jsonify(error=payload)
    elif path.startswith("/widget/"):
        # The widget's host page shows nothing rather than an error; the script logs the status.
        response = Response(b"", mimetype="text/html")
    else:
        response = Response(render_template("error.html", code=error.code, message=error.message),
                            mimetype="text/html")
    response.status_code = error.code
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(error.headers)
    allowed = getattr(exc, "valid_methods", None)  # a 405 says what would have worked
    if allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(Exception, handle)
