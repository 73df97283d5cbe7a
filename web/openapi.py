"""The OpenAPI 3.1 document of every public endpoint, written by hand and kept true by tests.

``tests/test_api.py`` checks that every registered route (bar the demo site and static files) is
documented and that every documented path exists; ``tests/test_fuzz.py`` fuzzes the API from this
document and validates each response against the schemas here. Add an endpoint, add it here.
"""

from __future__ import annotations

from typing import Any

from recommender import __version__
from recommender.settings import Settings

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


_CACHE_HEADERS = {
    "ETag": {"description": "Changes whenever what a reader would see changes",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age and stale-while-revalidate",
                      "schema": {"type": "string"}},
    "X-Request-ID": {"description": "This request's id (also in the body)",
                     "schema": {"type": "string"}},
}
_NOT_MODIFIED = {"description": "The client's copy (If-None-Match) is current",
                 "headers": _CACHE_HEADERS}


def _k(maximum: int) -> dict[str, Any]:
    return {"name": "k", "in": "query", "required": False,
            "description": "How many related items (default 3)",
            "schema": {"type": "integer", "minimum": 1, "maximum": maximum,
                       "default": min(3, maximum)}}


_URL = {"name": "url", "in": "query", "required": True,
        "description": "The article page's URL; tracking parameters (utm_*, fbclid, …), the "
                       "fragment and a trailing slash are ignored",
        "schema": {"type": "string", "minLength": 1, "maxLength": 2048},
        "example": "https://meridian.example/2025/12/what-the-delhi-summit-settled"}
_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                  "description": "An ETag from an earlier response", "schema": {"type": "string"}}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"},
                           "parameter": {"type": "string",
                                         "description": "The malformed parameter, for a 400"}}}},
    },
    "ArticleRef": {
        "type": "object", "required": ["id", "url", "title"], "additionalProperties": False,
        "properties": {"id": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                       "title": {"type": "string"}},
    },
    "Teaser": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "url", "title", "dek", "image", "section", "authors", "published_at",
                     "read_minutes", "read_label", "position", "score"],
        "properties": {
            "id": {"type": "string"}, "url": {"type": "string", "format": "uri"},
            "title": {"type": "string"}, "dek": {"type": "string"},
            "image": {"type": ["string", "null"]}, "section": {"type": "string"},
            "authors": {"type": "array", "items": {"type": "string"}},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "read_minutes": {"type": "integer", "minimum": 1},
            "read_label": {"type": "string", "examples": ["6 mins read", "1 min read"]},
            "position": {"type": "integer", "minimum": 1}, "score": {"type": "number"},
        },
    },
    "RelatedList": {
        "type": "object", "additionalProperties": False,
        "required": ["article", "items", "build_id", "request_id"],
        "properties": {"article": _ref("ArticleRef"),
                       "items": {"type": "array", "items": _ref("Teaser")},
                       "build_id": {"type": "string"}, "request_id": {"type": "string"}},
    },
    "Health": {"type": "object", "required": ["status"],
               "properties": {"status": {"const": "ok"}}},
    "Readiness": {
        "type": "object", "required": ["status", "checks"],
        "properties": {"status": {"enum": ["ready", "not ready"]},
                       "checks": {"type": "object", "required": ["database", "build"],
                                  "properties": {"database": {"type": "string"},
                                                 "build": {"type": ["object", "string"]}}}},
    },
}


def _related_operation(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"get": {
        "summary": summary, "tags": ["public"], "parameters": [*parameters, _IF_NONE_MATCH],
        "responses": {
            "200": {"description": "The article and its live, unblocked related items",
                    "headers": _CACHE_HEADERS,
                    "content": {JSON: {"schema": _ref("RelatedList")}}},
            "304": _NOT_MODIFIED,
            "400": _error("A malformed parameter (named in error.parameter)"),
            "404": _error("No published article with this id or URL"),
        }}}


# -- the CMS's publish webhook (web/ingest.py): bearer-authenticated, no CORS -----------------------

_BEARER = {"bearerAuth": {
    "type": "http", "scheme": "bearer",
    "description": "An API key from `related-reading keys create NAME` or RELATED_API_KEYS"}}
_STRING_LIST = {"anyOf": [{"type": "array", "items": {"type": "string"}},
                          {"type": "string", "description": "`;`-separated"}]}
_PUBLISH_SCHEMAS: dict[str, Any] = {
    "ArticleInput": {
        "type": "object", "required": ["id", "url", "title"],
        "description": "One article in the JSON Lines import format (README, Article format); "
                       "unknown fields are ignored",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 255,
                   "description": "The CMS's id: the upsert key"},
            "url": {"type": "string", "format": "uri", "maxLength": 2048},
            "title": {"type": "string", "minLength": 1}, "dek": {"type": "string"},
            "body": {"type": "string", "description": "Text or HTML (markup is stripped)"},
            "authors": _STRING_LIST, "tags": _STRING_LIST,
            "section": {"type": "string"}, "content_type": {"type": "string",
                                                           "examples": ["news", "analysis"]},
            "language": {"type": "string", "default": "en"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "status": {"enum": ["published", "draft", "scheduled", "unpublished"],
                       "default": "published"},
            "image": {"type": ["string", "null"], "format": "uri"},
        },
        "example": {"id": "cms-4711", "url": "https://meridian.example/2026/01/harbour-reopens",
                    "title": "The harbour reopens", "dek": "After two years of works",
                    "body": "<p>The harbour reopened on Monday…</p>", "tags": ["ports"],
                    "section": "Europe", "published_at": "2026-01-12T08:00:00Z"},
    },
    "PublishResult": {
        "type": "object", "required": ["items", "lists_updated"], "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "action", "status", "lists_updated"],
                "properties": {
                    "id": {"type": "string"},
                    "action": {"enum": ["added", "updated", "unchanged", "withdrawn"]},
                    "status": {"enum": ["published", "draft", "scheduled", "unpublished"]},
                    "lists_updated": {"type": "integer", "minimum": 0,
                                      "description": "Related lists refreshed because of this "
                                                     "article, before the response was sent"}}}},
            "lists_updated": {"type": "integer", "minimum": 0,
                              "description": "Related lists refreshed by the whole request"}},
    },
    "ValidationError": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {
                "code": {"const": 422}, "message": {"type": "string"},
                "problems": {"type": "array", "items": {
                    "type": "object", "required": ["index", "field", "message"],
                    "additionalProperties": False,
                    "properties": {"index": {"type": ["integer", "null"],
                                             "description": "Position in the request's list"},
                                   "field": {"type": ["string", "null"]},
                                   "message": {"type": "string"}}}}}}},
    },
}
_UNAUTHORIZED = {"description": "No API key, or an unknown or revoked one",
                 "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                 "content": {JSON: {"schema": _ref("Error")}}}
_ARTICLE_ID = {"name": "article_id", "in": "path", "required": True,
               "description": "The CMS's article id", "example": "demo-001",
               "schema": {"type": "string", "minLength": 1, "maxLength": 255}}


def _publish_paths() -> dict[str, Any]:
    result = {"content": {JSON: {"schema": _ref("PublishResult")}}}
    return {
        "/api/v1/articles": {"post": {
            "summary": "Publish or update articles (the CMS webhook)", "tags": ["publishing"],
            "description": "Synchronous and all-or-nothing: every item is validated, then the "
                           "articles are stored and every related list they enter or leave is "
                           "refreshed before the response is sent. Repeating a request changes "
                           "nothing. `status: unpublished` withdraws an article. At most 500 "
                           "articles and 5 MB per request. The first publish in a worker loads "
                           "the sentence model (about 10 s).",
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": {JSON: {"schema": {"anyOf": [
                _ref("ArticleInput"),
                {"type": "array", "items": _ref("ArticleInput"), "minItems": 1, "maxItems": 500},
                {"type": "object", "required": ["articles"],
                 "properties": {"articles": {"type": "array", "items": _ref("ArticleInput"),
                                             "minItems": 1, "maxItems": 500}}}]}}}},
            "responses": {
                "200": {"description": "Stored (nothing new was added)", **result},
                "201": {"description": "Stored, at least one article added", **result},
                "400": _error("The body is not valid JSON"),
                "401": _UNAUTHORIZED,
                "413": _error("The body is larger than 5 MB"),
                "415": _error("The body is not JSON"),
                "422": {"description": "Invalid articles (every problem listed) or more than 500; "
                                       "nothing was stored",
                        "content": {JSON: {"schema": _ref("ValidationError")}}}}}},
        "/api/v1/articles/{article_id}": {"delete": {
            "summary": "Withdraw an article (status unpublished)", "tags": ["publishing"],
            "description": "Gone from every related list before the response is sent; "
                           "withdrawing twice is harmless.",
            "security": [{"bearerAuth": []}], "parameters": [_ARTICLE_ID],
            "responses": {
                "200": {"description": "Withdrawn (or already withdrawn: action unchanged)",
                        **result},
                "400": _error("A malformed id"),
                "401": _UNAUTHORIZED,
                "404": _error("No article with this id")}}},
    }



# -- draft preview for the CMS (web/preview.py): bearer-authenticated, no CORS, stores nothing ------

_PREVIEW_ITEM = {
    "type": "object", "additionalProperties": False,
    "required": ["position", "id", "url", "title", "score", "signals", "pinned", "fallback",
                 "note"],
    "properties": {
        "position": {"type": "integer", "minimum": 1}, "id": {"type": "string"},
        "url": {"type": "string"}, "title": {"type": "string"}, "score": {"type": "number"},
        "signals": {"type": "object", "additionalProperties": {"type": "number"},
                    "description": "semantic, lexical, text, tags, author, recency, diversity, "
                                   "curation, fallback: each signal behind the item's place"},
        "pinned": {"type": "boolean"}, "fallback": {"type": "boolean"},
        "note": {"type": "string"}},
}
_PREVIEW_SCHEMAS: dict[str, Any] = {
    "DraftInput": {
        "type": "object", "additionalProperties": False,
        "description": "An unpublished article; it needs a title or a body",
        "properties": {
            "title": {"type": "string", "maxLength": 1000},
            "dek": {"type": "string", "maxLength": 2000},
            "body": {"type": "string", "maxLength": 1000000,
                     "description": "Text or HTML (markup is stripped)"},
            "tags": _STRING_LIST, "authors": _STRING_LIST,
            "section": {"type": "string", "maxLength": 255},
            "content_type": {"type": "string", "default": "news",
                             "examples": ["news", "analysis", "opinion", "review", "evergreen"]},
            "language": {"type": "string", "default": "en", "maxLength": 16},
            "k": {"type": "integer", "minimum": 1, "default": 3,
                  "description": "How many items (at most RELATED_RELATED_K)"}},
        "example": {"title": "Russia and India agree oil payments", "tags": ["india", "russia"],
                    "section": "Asia", "content_type": "news", "k": 3},
    },
    "PreviewItem": _PREVIEW_ITEM,
    "PreviewResult": {
        "type": "object", "additionalProperties": False,
        "required": ["items", "below_cut", "build_id"],
        "properties": {"items": {"type": "array", "items": _ref("PreviewItem")},
                       "below_cut": {"type": "array", "items": _ref("PreviewItem"),
                                     "description": "The next candidates, just below the cut"},
                       "build_id": {"type": "string"}},
    },
}


def _preview_paths() -> dict[str, Any]:
    return {"/api/v1/preview": {"post": {
        "summary": "The related reading a draft would get once published, with explanations",
        "tags": ["editors"],
        "description": "Nothing is stored. Authenticate with an API key (Bearer), or from the "
                       "editors' pages with the session cookie plus its CSRF token in "
                       "`X-CSRF-Token`. The first preview in a worker loads the sentence model.",
        "security": [{"bearerAuth": []}],
        "requestBody": {"required": True,
                        "content": {JSON: {"schema": _ref("DraftInput")}}},
        "responses": {
            "200": {"description": "The list, each item with its signals",
                    "content": {JSON: {"schema": _ref("PreviewResult")}}},
            "400": _error("The body is not valid JSON"),
            "401": _UNAUTHORIZED,
            "413": _error("The body is larger than 2 MB"),
            "415": _error("The body is not JSON"),
            "422": _error("An invalid draft (the field is named in error.parameter)")}}}}

def openapi_document(settings: Settings) -> dict[str, Any]:
    """The document for this deployment (``k``'s maximum is its ``related_k``)."""
    k = _k(settings.related_k)
    html_fragment = {"text/html": {"schema": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Related Reading", "version": __version__,
                 "description": "Related-reading teasers for article pages: a JSON API and an "
                                "embeddable widget. Public endpoints need no key and are "
                                "cacheable (ETag, Cache-Control); CORS is granted to the "
                                "configured widget origins."},
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/related": _related_operation("Related reading for a page URL",
                                                  [_URL, k]),
            "/api/v1/articles/{article_id}/related": _related_operation(
                "Related reading for an article id",
                [{"name": "article_id", "in": "path", "required": True,
                  "description": "The CMS's article id", "example": "demo-001",
                  "schema": {"type": "string", "minLength": 1, "maxLength": 255}}, k]),
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "tags": ["public"],
                "responses": {"200": {"description": "OpenAPI 3.1",
                                      "content": {JSON: {"schema": {"type": "object"}}}}}}},
            "/widget/related.html": {"get": {
                "summary": "The related-reading box as an HTML fragment (empty when nothing "
                           "is related)", "tags": ["widget"],
                "parameters": [_URL, k, _IF_NONE_MATCH],
                "responses": {
                    "200": {"description": "The fragment", "headers": _CACHE_HEADERS,
                            "content": html_fragment},
                    "304": _NOT_MODIFIED,
                    "400": {"description": "A malformed parameter (empty body)",
                            "content": html_fragment},
                    "404": {"description": "No published article at this URL (empty body)",
                            "content": html_fragment}}}},
            "/widget/v1.js": {"get": {
                "summary": "The embed script", "tags": ["widget"],
                "parameters": [_IF_NONE_MATCH],
                "responses": {"200": {"description": "JavaScript",
                                      "content": {"text/javascript": {
                                          "schema": {"type": "string"}}}},
                              "304": _NOT_MODIFIED}}},
            "/healthz": {"get": {
                "summary": "The process is up", "tags": ["operations"],
                "responses": {"200": {"description": "Up",
                                      "content": {JSON: {"schema": _ref("Health")}}}}}},
            "/readyz": {"get": {
                "summary": "Database reachable and an index build in place",
                "tags": ["operations"],
                "responses": {
                    "200": {"description": "Ready", "content": {JSON: {
                        "schema": _ref("Readiness")}}},
                    "503": {"description": "Not ready", "content": {JSON: {
                        "schema": _ref("Readiness")}}}}}},
            "/metrics": {"get": {
                "summary": "Prometheus metrics", "tags": ["operations"],
                "responses": {"200": {"description": "Prometheus text format",
                                      "content": {"text/plain": {
                                          "schema": {"type": "string"}}}}}}},
            **_publish_paths(),
            **_preview_paths(),
        },
        "components": {"schemas": {**_SCHEMAS, **_PUBLISH_SCHEMAS, **_PREVIEW_SCHEMAS},
                       "securitySchemes": _BEARER},
    }
