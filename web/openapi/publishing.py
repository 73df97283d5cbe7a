"""The CMS's publish webhook (``web/ingest.py``) in the OpenAPI document.

Bearer-authenticated (an API key), no CORS: only the CMS calls it, never a reader's browser.
"""

from __future__ import annotations

from typing import Any

from web.openapi.common import (
    ARTICLE_ID,
    DATE,
    ID_PATTERN,
    JSON,
    STRING_LIST,
    TEXT,
    TEXT_PATTERN,
    UNAUTHORIZED,
    URL_MAX_LENGTH,
    URL_PATTERN,
    error,
    ref,
)

SCHEMAS: dict[str, Any] = {
    "ArticleInput": {
        "type": "object", "required": ["id", "url", "title"],
        "description": "One article in the JSON Lines import format (README, Article format); "
                       "unknown fields are ignored",
        "properties": {
            "id": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 255,
                              "pattern": ID_PATTERN},
                             {"type": "integer", "minimum": -(2**53 - 1), "maximum": 2**53 - 1}],
                   "description": "The CMS's id: the upsert key (no control characters)"},
            "url": {"type": "string", "maxLength": URL_MAX_LENGTH, "pattern": URL_PATTERN},
            "title": {"anyOf": [{"type": "string", "minLength": 1, "pattern": TEXT_PATTERN},
                                {"type": "number"}]},
            "dek": TEXT,
            "body": {"type": ["string", "null"],
                     "description": "Text or HTML (markup is stripped)"},
            "authors": STRING_LIST, "tags": STRING_LIST,
            "section": TEXT, "content_type": {**TEXT, "examples": ["news", "analysis"]},
            "language": {**TEXT, "default": "en"},
            "published_at": DATE, "updated_at": DATE,
            "status": {"enum": ["published", "draft", "scheduled", "unpublished", None],
                       "default": "published"},
            "image": {"anyOf": [{"type": "string", "maxLength": 0}, {"type": "string", "maxLength": 2048,
                                 "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\x00-\\x1f\\x7f-\\x9f]+$"},
                                {"type": "null"}],
                      "description": "An absolute http(s) URL of the teaser image"},
        },
        # a scheduled article needs its date (a published one without one is live from now)
        "anyOf": [{"properties": {"status": {"enum": ["published", "draft", "unpublished",
                                                      None]}}},
                  {"required": ["published_at"],
                   "properties": {"published_at": {"type": "string", "format": "date-time"}}}],
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
                "code": {"enum": [409, 422]}, "message": {"type": "string"},
                "problems": {"type": "array", "items": {
                    "type": "object", "required": ["index", "field", "message"],
                    "additionalProperties": False,
                    "properties": {"index": {"type": ["integer", "null"],
                                             "description": "Position in the request's list"},
                                   "field": {"type": ["string", "null"]},
                                   "message": {"type": "string"}}}}}}},
    },
}


def paths() -> dict[str, Any]:
    """Publish (POST) and withdraw (DELETE) articles."""
    result = {"content": {JSON: {"schema": ref("PublishResult")}}}
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
                ref("ArticleInput"),
                {"type": "array", "items": ref("ArticleInput"), "minItems": 1, "maxItems": 500},
                {"type": "object", "required": ["articles"],
                 "properties": {"articles": {"type": "array", "items": ref("ArticleInput"),
                                             "minItems": 1, "maxItems": 500}}}]}}}},
            "responses": {
                "200": {"description": "Stored (nothing new was added)", **result},
                "201": {"description": "Stored, at least one article added", **result},
                "400": error("The body is not valid JSON"),
                "401": UNAUTHORIZED,
                "413": error("The body is larger than 5 MB"),
                "415": error("The body is not JSON"),
                "409": {"description": "Every article is valid but some clash: an id or URL "
                                       "given twice, or a URL another stored article has "
                                       "(every clash listed); nothing was stored",
                        "content": {JSON: {"schema": ref("ValidationError")}}},
                "422": {"description": "Invalid articles (every problem listed) or more than 500; "
                                       "nothing was stored",
                        "content": {JSON: {"schema": ref("ValidationError")}}}}}},
        "/api/v1/articles/{article_id}": {"delete": {
            "summary": "Withdraw an article (status unpublished)", "tags": ["publishing"],
            "description": "Gone from every related list before the response is sent; "
                           "withdrawing twice is harmless. An id ending in `/related` names "
                           "another article's list: withdraw it with `\"status\": "
                           "\"unpublished\"` instead.",
            "security": [{"bearerAuth": []}], "parameters": [ARTICLE_ID],
            "responses": {
                "200": {"description": "Withdrawn (or already withdrawn: action unchanged)",
                        **result},
                "400": error("A malformed id"),
                "401": UNAUTHORIZED,
                "404": error("No article with this id")}}},
    }

