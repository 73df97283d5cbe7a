"""Draft preview for the CMS and editors (``web/preview.py``) in the OpenAPI document.

Bearer-authenticated (or an editor's session plus CSRF token), no CORS; it stores nothing.
"""

from __future__ import annotations

from typing import Any

from web.openapi.common import JSON, TEXT_PATTERN, UNAUTHORIZED, error, ref

PREVIEW_ITEM = {
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
NO_NUL = "^[^\\x00]*$"  # ``live.drafts`` refuses NUL characters
# ``live.drafts``: a list of up to 50 strings of up to 255 characters, or one string (split at
# "," and ";"), or null/"" for none.
DRAFT_LIST = {"anyOf": [{"type": "array", "maxItems": 50,
                         "items": {"type": "string", "maxLength": 255, "pattern": NO_NUL}},
                        {"type": "string", "maxLength": 255, "pattern": NO_NUL},
                        {"type": "null"}]}

SCHEMAS: dict[str, Any] = {
    "DraftInput": {
        "type": "object", "additionalProperties": False,
        "description": "An unpublished article; it needs a title or a body with some text "
                       "(before any markup)",
        "anyOf": [{"required": ["title"],
                   "properties": {"title": {"type": "string", "pattern": TEXT_PATTERN}}},
                  {"required": ["body"],
                   "properties": {"body": {"type": "string", "pattern": TEXT_PATTERN}}}],
        "properties": {
            "title": {"type": ["string", "null"], "maxLength": 1000, "pattern": NO_NUL},
            "dek": {"type": ["string", "null"], "maxLength": 2000, "pattern": NO_NUL},
            "body": {"type": ["string", "null"], "maxLength": 1000000, "pattern": NO_NUL,
                     "description": "Text or HTML (markup is stripped)"},
            "tags": DRAFT_LIST, "authors": DRAFT_LIST,
            "section": {"type": ["string", "null"], "maxLength": 255, "pattern": NO_NUL},
            "content_type": {"type": ["string", "null"], "default": "news",
                             "pattern": "^\\s*([a-z][a-z0-9_-]{0,31})?\\s*$",
                             "examples": ["news", "analysis", "opinion", "review", "evergreen"]},
            "language": {"type": ["string", "null"], "default": "en", "maxLength": 16,
                         "pattern": NO_NUL},
            "k": {"type": "integer", "minimum": 1, "default": 3,
                  "description": "How many items (at most RELATED_RELATED_K)"}},
        "example": {"title": "Russia and India agree oil payments", "tags": ["india", "russia"],
                    "section": "Asia", "content_type": "news", "k": 3},
    },
    "PreviewItem": PREVIEW_ITEM,
    "PreviewResult": {
        "type": "object", "additionalProperties": False,
        "required": ["items", "below_cut", "build_id"],
        "properties": {"items": {"type": "array", "items": ref("PreviewItem")},
                       "below_cut": {"type": "array", "items": ref("PreviewItem"),
                                     "description": "The next candidates, just below the cut"},
                       "build_id": {"type": "string"}},
    },
}


def schemas(max_k: int) -> dict[str, Any]:
    """The schemas, with ``k``'s maximum this deployment's list length (``related_k``)."""
    draft = dict(SCHEMAS["DraftInput"])
    draft["properties"] = {**draft["properties"],
                           "k": {**draft["properties"]["k"], "maximum": max_k,
                                 "default": min(3, max_k)}}
    return {**SCHEMAS, "DraftInput": draft}


def paths() -> dict[str, Any]:
    """The draft preview (POST)."""
    return {"/api/v1/preview": {"post": {
        "summary": "The related reading a draft would get once published, with explanations",
        "tags": ["editors"],
        "description": "Nothing is stored. Authenticate with an API key (Bearer), or from the "
                       "editors' pages with the session cookie plus its CSRF token in "
                       "`X-CSRF-Token`. The first preview in a worker loads the sentence model.",
        "security": [{"bearerAuth": []}],
        "requestBody": {"required": True,
                        "content": {JSON: {"schema": ref("DraftInput")}}},
        "responses": {
            "200": {"description": "The list, each item with its signals",
                    "content": {JSON: {"schema": ref("PreviewResult")}}},
            "400": error("The body is not valid JSON"),
            "401": UNAUTHORIZED,
            "413": error("The body is larger than 2 MB"),
            "415": error("The body is not JSON"),
            "422": error("An invalid draft (the field is named in error.parameter)")}}}}
