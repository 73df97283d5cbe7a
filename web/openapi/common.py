"""Pieces every part of the OpenAPI document uses: references, errors, cache headers, parameters."""

from __future__ import annotations

from typing import Any

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


CACHE_HEADERS = {
    "ETag": {"description": "Changes whenever what a reader would see changes",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age and stale-while-revalidate",
                      "schema": {"type": "string"}},
    "X-Request-ID": {"description": "This request's id (also in the body)",
                     "schema": {"type": "string"}},
}
NOT_MODIFIED = {"description": "The client's copy (If-None-Match) is current",
                "headers": CACHE_HEADERS}


def k_parameter(maximum: int) -> dict[str, Any]:
    return {"name": "k", "in": "query", "required": False,
            "description": "How many related items (default 3)",
            "schema": {"type": "integer", "minimum": 1, "maximum": maximum,
                       "default": min(3, maximum)}}


# What ``catalog.urls.normalize_url`` and ``catalog.validation`` accept, a little stricter: an
# absolute http(s) URL, an ASCII host, no spaces or control characters.
URL_PATTERN = ("^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,4})?"
               "(/[^\\s?#\\x00-\\x1f\\x7f-\\x9f]*)?"
               "([?][A-Za-z0-9._~-]+=[A-Za-z0-9._~-]*(&[A-Za-z0-9._~-]+=[A-Za-z0-9._~-]*)*)?$")
# Normalising never lengthens a URL of that shape by more than the "/" of an empty path.
URL_MAX_LENGTH = 2047
# Text that is not empty once markup and control characters are stripped (``catalog.text``): a
# visible character before any markup.
TEXT_PATTERN = "^[^<&]*[^\\s<&\\x00-\\x1f\\x7f]"
ID_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
URL = {"name": "url", "in": "query", "required": True,
       "description": "The article page's URL; tracking parameters (utm_*, fbclid, …), the "
                      "fragment and a trailing slash are ignored",
       # what ``web.params.url_param`` accepts: an absolute http(s) URL, no spaces or controls
       "schema": {"type": "string", "minLength": 1, "maxLength": URL_MAX_LENGTH,
                  "pattern": URL_PATTERN},
       "example": "https://meridian.example/2025/12/what-the-delhi-summit-settled"}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "description": "An ETag from an earlier response", "schema": {"type": "string"}}


BEARER = {"bearerAuth": {
    "type": "http", "scheme": "bearer",
    "description": "An API key from `related-reading keys create NAME` or RELATED_API_KEYS"}}
STRING_LIST = {"anyOf": [{"type": "array", "items": {"type": ["string", "number"]}},
                         {"type": "string", "description": "`;`-separated"}, {"type": "null"}]}
UNAUTHORIZED = {"description": "No API key, or an unknown or revoked one",
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                "content": {JSON: {"schema": ref("Error")}}}
ARTICLE_ID = {"name": "article_id", "in": "path", "required": True,
              "description": "The CMS's article id (no control characters)",
              "example": "demo-001",
              "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                         "pattern": "^[^\\x00-\\x1f\\x7f]+$"}}
# An empty string is no date, as null is (what ``catalog.articles.parse_datetime`` does).
# Text fields take numbers too (a CMS's numeric section, say), and null for "none" (not booleans).
TEXT = {"type": ["string", "number", "null"]}
DATE = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0},
                  {"type": "null"}]}
