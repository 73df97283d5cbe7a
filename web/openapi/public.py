"""The readers' endpoints in the OpenAPI document: schemas and the related-list operation."""

from __future__ import annotations

from typing import Any

from web.openapi.common import CACHE_HEADERS, IF_NONE_MATCH, JSON, NOT_MODIFIED, error, ref

SCHEMAS: dict[str, Any] = {
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
        "properties": {"id": {"type": "string"},
                       "url": {"type": "string", "description": "As stored (an IRI)"},
                       "title": {"type": "string"}},
    },
    "Teaser": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "url", "title", "dek", "image", "section", "authors", "published_at",
                     "read_minutes", "read_label", "position", "score"],
        "properties": {
            "id": {"type": "string"}, "url": {"type": "string", "description": "As stored (an IRI)"},
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
        "properties": {"article": ref("ArticleRef"),
                       "items": {"type": "array", "items": ref("Teaser")},
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


def related_operation(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """A readers' related-list GET: both lookups (by URL and by id) answer the same way."""
    return {"get": {
        "summary": summary, "tags": ["public"], "parameters": [*parameters, IF_NONE_MATCH],
        "responses": {
            "200": {"description": "The article and its live, unblocked related items",
                    "headers": CACHE_HEADERS,
                    "content": {JSON: {"schema": ref("RelatedList")}}},
            "304": NOT_MODIFIED,
            "400": error("A malformed parameter (named in error.parameter)"),
            "404": error("No published article with this id or URL"),
        }}}

