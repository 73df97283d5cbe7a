"""The OpenAPI 3.1 document of every public endpoint, written by hand and kept true by tests.

``tests/web/test_api.py`` checks that every registered route (bar the demo site and static files) is
documented and that every documented path exists; ``tests/web/test_fuzz.py`` fuzzes the API from this
document and validates each response against the schemas here. Add an endpoint, add it here.

The readers', operations' and widget's paths are assembled here; their pieces, the publish
webhook's and the draft preview's parts each live in a module of this package.
"""

from __future__ import annotations

from typing import Any

from recommender import __version__
from recommender.settings import Settings
from web.openapi import feedback, preview, public, publishing
from web.openapi.common import (
    ARTICLE_ID,
    BEARER,
    CACHE_HEADERS,
    IF_NONE_MATCH,
    JSON,
    NOT_MODIFIED,
    URL,
    k_parameter,
    ref,
)
from web.openapi.public import related_operation


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The document for this deployment (``k``'s maximum is its ``related_k``)."""
    k = k_parameter(settings.related_k)
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
            "/api/v1/related": related_operation("Related reading for a page URL",
                                                  [URL, k]),
            "/api/v1/articles/{article_id}/related": related_operation(
                "Related reading for an article id",
                [ARTICLE_ID, k]),
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "tags": ["public"],
                "responses": {"200": {"description": "OpenAPI 3.1",
                                      "content": {JSON: {"schema": {"type": "object"}}}}}}},
            "/widget/related.html": {"get": {
                "summary": "The related-reading box as an HTML fragment (empty when nothing "
                           "is related)", "tags": ["widget"],
                "parameters": [URL, k, IF_NONE_MATCH],
                "responses": {
                    "200": {"description": "The fragment", "headers": CACHE_HEADERS,
                            "content": html_fragment},
                    "304": NOT_MODIFIED,
                    "400": {"description": "A malformed parameter (empty body)",
                            "content": html_fragment},
                    "404": {"description": "No published article at this URL (empty body)",
                            "content": html_fragment}}}},
            "/widget/v1.js": {"get": {
                "summary": "The embed script", "tags": ["widget"],
                "parameters": [IF_NONE_MATCH],
                "responses": {"200": {"description": "JavaScript",
                                      "content": {"text/javascript": {
                                          "schema": {"type": "string"}}}},
                              "304": NOT_MODIFIED}}},
            "/healthz": {"get": {
                "summary": "The process is up", "tags": ["operations"],
                "responses": {"200": {"description": "Up",
                                      "content": {JSON: {"schema": ref("Health")}}}}}},
            "/readyz": {"get": {
                "summary": "Database reachable and an index build in place",
                "tags": ["operations"],
                "responses": {
                    "200": {"description": "Ready", "content": {JSON: {
                        "schema": ref("Readiness")}}},
                    "503": {"description": "Not ready", "content": {JSON: {
                        "schema": ref("Readiness")}}}}}},
            "/metrics": {"get": {
                "summary": "Prometheus metrics", "tags": ["operations"],
                "responses": {"200": {"description": "Prometheus text format",
                                      "content": {"text/plain": {
                                          "schema": {"type": "string"}}}}}}},
            **publishing.paths(),
            **preview.paths(),
            **feedback.paths(),  # --- #16 readers' feedback
        },
        "components": {"schemas": {**public.SCHEMAS, **publishing.SCHEMAS,
                                   **preview.schemas(settings.related_k), **feedback.SCHEMAS},
                       "securitySchemes": BEARER},
    }
