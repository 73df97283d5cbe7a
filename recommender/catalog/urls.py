"""Canonical article URLs, so the widget's ``?url=`` finds its article whatever the link carried.

Share buttons and newsletters decorate links (``utm_*``, ``fbclid``…), hosts arrive in any case and
CMSs disagree about trailing slashes; all of that is stripped before storing and before looking up.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "cmpid", "ocid", "spm", "s_cid", "mkt_tok",
    "oly_anon_id", "oly_enc_id", "vero_id", "__s", "_hsenc", "_hsmi", "ncid",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048


class InvalidURL(ValueError):
    """The text is not an absolute http(s) URL we can store or look up."""


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


MAX_HOST_LENGTH = 253


def normalize_url(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL, or raise :class:`InvalidURL`."""
    text = (url or "").strip()
    if not text:
        raise InvalidURL("URL is empty")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InvalidURL(f"expected an absolute http(s) URL, got {text[:100]!r}")
    host = parts.hostname.lower().rstrip(".")
    if len(host) > MAX_HOST_LENGTH:  # DNS's own limit: no such host exists (sites are hosts)
        raise InvalidURL(f"the host name is longer than DNS allows ({MAX_HOST_LENGTH} characters)")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    query.sort()
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def as_published(raw: object, url: str) -> str | None:
    """The link as the site published it when it differs from the normalised ``url`` only in ways
    that do not change the page (trailing slash, host case, parameter order); None otherwise.

    Normalising is for matching: a link to ``/post`` when WordPress publishes ``/post/`` costs the
    reader a redirect, so readers get this form. Tracking parameters are never kept."""
    text = str(raw or "").strip().split("#", 1)[0]
    if not text or text == url or len(text) > MAX_URL_LENGTH:
        return None
    try:
        if normalize_url(text) != url:
            return None
    except InvalidURL:
        return None
    query = parse_qsl(urlsplit(text).query, keep_blank_values=True)
    return None if any(_is_tracking(name) for name, _ in query) else text
