"""The CMS's publish webhook (``web/ingest.py``) in the OpenAPI document.

Bearer-authenticated (an API key), no CORS: only the CMS calls it, never a reader's browser.
"""

from __future__ import annotations

from typing import Any

from web.openapi.common import ARTICLE_ID, JSON, STRING_LIST, UNAUTHORIZED, error, ref

SCHEMAS: dict[str, Any] = {
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
            "authors": STRING_LIST, "tags": STRING_LIST,
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
                "422": {"description": "Invalid articles (every problem listed) or more than 500; "
                                       "nothing was stored",
                        "content": {JSON: {"schema": ref("ValidationError")}}}}}},
        "/api/v1/articles/{article_id}": {"delete": {
            "summary": "Withdraw an article (status unpublished)", "tags": ["publishing"],
            "description": "Gone from every related list before the response is sent; "
                           "withdrawing twice is harmless.",
            "security": [{"bearerAuth": []}], "parameters": [ARTICLE_ID],
            "responses": {
                "200": {"description": "Withdrawn (or already withdrawn: action unchanged)",
                        **result},
                "400": error("A malformed id"),
                "401": UNAUTHORIZED,
                "404": error("No article with this id")}}},
    }

