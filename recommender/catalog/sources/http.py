"""Fetching source documents: one place for timeouts, size caps, the User-Agent and error messages.

A sync that hangs forever or swallows a 500 is worse than one that fails loudly, so every fetch
is bounded and every failure becomes a :class:`SourceError` naming the URL and what went wrong.
Local file paths are accepted wherever a URL is, so feeds and sitemaps can be imported offline.
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from recommender.catalog.urls import InvalidURL, normalize_url

USER_AGENT = "related-reading/0.1"
DEFAULT_TIMEOUT = 10.0
MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024


class SourceError(Exception):
    """A source could not be fetched or understood; the message names the URL and the cause."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, body: bytes = b"") -> None:
        self.url, self.reason, self.status, self.body = url, reason, status, body
        super().__init__(f"{url}: {reason}")


@dataclass(frozen=True)
class Response:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def text(self) -> str:
        """The body decoded with the charset the server declared (UTF-8 when it declared none)."""
        message = Message()
        message["content-type"] = self.header("content-type") or "text/plain"
        try:
            return self.body.decode(message.get_content_charset() or "utf-8", errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


@dataclass
class Fetched:
    """What one source yielded before anything is stored: records, rejects and the sync's scope."""

    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (where, record)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    not_modified: int = 0
    # The sites (hosts) this source speaks for, and, when ``complete``, every source id and
    # normalised URL it lists right now (unchanged ones too): what withdrawal is decided from.
    hosts: set[str] = field(default_factory=set)
    complete: bool = False
    listed: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)  # said once per sync (e.g. "unauthenticated")


def is_remote(location: str) -> bool:
    return urlsplit(location).scheme.lower() in ("http", "https")


def host_of(url: Any) -> str:
    """The host[:port] of a URL as stored (normalised), or "" for anything else."""
    try:
        return urlsplit(normalize_url(url)).netloc if isinstance(url, str) else ""
    except InvalidURL:
        return ""


def _read_capped(url: str, stream: Any, deadline: float) -> bytes:
    """Read at most MAX_BYTES, failing if the whole body takes longer than the timeout."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BYTES:
            raise SourceError(url, f"response larger than {MAX_BYTES // (1024 * 1024)} MB")
        if time.monotonic() > deadline:
            raise SourceError(url, "timed out while reading the response")
        chunks.append(chunk)


def _read_file(location: str) -> Response:
    path = Path(location[7:] if location.startswith("file://") else location)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SourceError(location, f"file larger than {MAX_BYTES // (1024 * 1024)} MB")
        return Response(location, path.read_bytes())
    except OSError as exc:
        raise SourceError(location, f"cannot read file: {exc.strerror or exc}") from None


def _headers(message: Message) -> dict[str, str]:
    return {k.lower(): v for k, v in message.items()}


def fetch(location: str, *, timeout: float = DEFAULT_TIMEOUT, accept: str = "*/*",
          headers: dict[str, str] | None = None) -> Response:
    """GET a URL (or read a local file); raise SourceError on any failure or non-2xx status.

    ``headers`` (an Authorization header) are sent as given and never appear in an error."""
    if not is_remote(location):
        return _read_file(location)
    request = urllib.request.Request(location, headers={"User-Agent": USER_AGENT, "Accept": accept})
    for name, value in (headers or {}).items():  # never copied to where a redirect points
        request.add_unredirected_header(name, value)
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = _read_capped(location, resp, deadline)
            return Response(resp.geturl(), body, _headers(resp.headers))
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read(MAX_BYTES) if exc.fp is not None else b""
        raise SourceError(location, f"HTTP {exc.code} {exc.reason}", status=exc.code, body=body) from None
    except TimeoutError:
        raise SourceError(location, f"timed out after {timeout:g} s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise SourceError(location, f"timed out after {timeout:g} s") from None
        raise SourceError(location, f"cannot connect: {exc.reason}") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise SourceError(location, f"request failed: {exc!r}") from None


def maybe_gunzip(location: str, body: bytes) -> bytes:
    """Sitemaps are often served as .xml.gz; decompress (within the size cap) when gzipped."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
            data = fh.read(MAX_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise SourceError(location, f"malformed gzip data: {exc}") from None
    if len(data) > MAX_BYTES:
        raise SourceError(location, f"decompressed document larger than {MAX_BYTES // (1024 * 1024)} MB")
    return data


def parse_json(response: Response) -> Any:
    try:
        return json.loads(response.body.decode("utf-8-sig", errors="replace"))
    except json.JSONDecodeError as exc:
        raise SourceError(response.url, f"malformed JSON: {exc.msg} at line {exc.lineno} "
                                        f"column {exc.colno}") from None
