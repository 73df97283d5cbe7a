"""The widget's feedback endpoint (``web/events.py``) in the OpenAPI document.

Public, no key; CORS for the configured widget origins; nothing that identifies a reader.
"""

from __future__ import annotations

from typing import Any

from recommender.feedback.events import MAX_BODY_BYTES, MAX_EVENTS, MAX_ITEMS
from web.openapi.common import JSON, error, ref

TOKEN = {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$",
         "description": "Random, drawn by the widget for one view of one box"}
ARM = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$", "default": "default",
       "description": "The ranking policy arm that produced the list (data-rr-arm)"}
SCHEMAS: dict[str, Any] = {
    "Impression": {
        "type": "object", "required": ["type", "page", "token", "items"],
        "properties": {"type": {"const": "impression"}, "page": {"type": "string", "minLength": 1},
                       "token": TOKEN, "arm": ARM,
                       "items": {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
                                 "items": {"type": "string", "minLength": 1},
                                 "description": "The teasers' article ids, position 1 first"}},
    },
    "Click": {
        "type": "object", "required": ["type", "page", "token", "item", "position"],
        "properties": {"type": {"const": "click"}, "page": {"type": "string", "minLength": 1},
                       "token": TOKEN, "arm": ARM, "item": {"type": "string", "minLength": 1},
                       "position": {"type": "integer", "minimum": 1, "maximum": MAX_ITEMS}},
    },
    "EventBatch": {
        "type": "object", "required": ["events"],
        "properties": {"events": {"type": "array", "minItems": 1, "maxItems": MAX_EVENTS,
                                  "items": {"oneOf": [ref("Impression"), ref("Click")]}}},
        "example": {"events": [
            {"type": "impression", "page": "demo-001", "token": "9f2c4e7a1b3d5f60",
             "arm": "default", "items": ["demo-002", "demo-003", "demo-004"]},
            {"type": "click", "page": "demo-001", "token": "9f2c4e7a1b3d5f60",
             "arm": "default", "item": "demo-003", "position": 2}]},
    },
}


def paths() -> dict[str, Any]:
    """POST /api/v1/events."""
    body = {"schema": ref("EventBatch")}
    return {"/api/v1/events": {"post": {
        "summary": "Report the widget's impressions and clicks",
        "tags": ["widget"],
        "description": f"At most {MAX_BODY_BYTES} bytes and {MAX_EVENTS} events. Sent as "
                       "text/plain by navigator.sendBeacon (no preflight) or as JSON. With "
                       "`DNT: 1` or `Sec-GPC: 1`, and from known crawlers, nothing is recorded "
                       "(still 204). A view's token counts once per position.",
        "requestBody": {"required": True, "content": {JSON: body, "text/plain": body}},
        "responses": {
            "204": {"description": "Stored (committed), or deliberately not recorded"},
            "400": error("Malformed, too large, too many events, or unknown articles"),
            "403": error("The page's origin is not one of RELATED_WIDGET_ORIGINS"),
            "429": error("Too many events from this client (RELATED_EVENTS_RATE_LIMIT)")}}}}
