"""Reading a request body no larger than a cap, whether its length is announced or not.

Werkzeug enforces ``max_content_length`` against a ``Content-Length`` header, but a chunked body
(no length announced) is only read *up to* the cap and silently cut there, so an oversized
upload used to reach the JSON parser truncated and came back as "400 not valid JSON". Reading
one byte past the cap tells a body that fits from one that does not: the latter is a 413.
"""

from __future__ import annotations

from flask import request

from web.errors import ApiError


def read_body(limit: int) -> bytes:
    """The request's body, or a 413 when it is over ``limit`` bytes (announced or chunked)."""
    request.max_content_length = limit + 1  # an announced length over limit + 1: Werkzeug's 413
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        raise ApiError(413, f"the body is larger than {limit} bytes")
    return raw
