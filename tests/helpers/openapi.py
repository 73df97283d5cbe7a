"""Validating responses against the schemas of the served OpenAPI document."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def schema_validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for one documented schema, its $refs resolved inside the document."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource(contents=document, specification=DRAFT202012))
    if "$ref" in schema:
        schema = {"$ref": "urn:openapi" + schema["$ref"]}
    return Draft202012Validator(schema, registry=registry)
