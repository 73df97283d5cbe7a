"""Fuzzing every endpoint from the OpenAPI document: no input may produce a 5xx.

Schemathesis generates requests from ``/api/v1/openapi.json`` (valid and invalid ones, plus the
documented examples) against the app in process and checks each response: no server error, the
documented status codes, content types, headers and body schemas. A second, schema-free fuzzer
throws arbitrary text at every parameter, since readers' browsers and bots send anything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from web.openapi import openapi_document

PAGE = "https://meridian.example/2025/12/russia-and-india-sign-oil-defence-and-payments-package-at-delhi-summit"
# A valid but unknown URL or id is a documented 404, not a failure to accept valid data.
EXCLUDED_CHECKS = [positive_data_acceptance]
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _operations(app: Flask) -> list[Any]:
    """Every documented operation, loaded from the app's own served document."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = set(openapi_document(app.extensions["related"].settings)["paths"])
    # Loading from a URL, schemathesis leaves out the document's own path.
    assert {op.path for op in operations} == documented - {"/api/v1/openapi.json"}
    return operations


# Schemathesis' own pytest integration (``from_fixture``) does not work under pytest 9, so each
# operation's strategy is driven by Hypothesis here; the checks are schemathesis' own.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_endpoint_conforms_to_its_document(app: Flask, mode: GenerationMode) -> None:
    for operation in _operations(app):
        if mode is GenerationMode.NEGATIVE and not (operation.query or operation.path_parameters):
            continue  # nothing that can be made invalid
        @given(case=operation.as_strategy(generation_mode=mode))
        @SETTINGS
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)
            assert response.status_code < 500

        check()


_text = st.text(st.characters(codec="utf-8"), max_size=300)
_query_value = st.one_of(_text, st.just(PAGE), _text.map(lambda t: PAGE + "?" + t),
                         st.integers(-5, 20).map(str))


@given(url=_query_value, k=st.one_of(st.none(), _query_value),
       path=st.sampled_from(["/api/v1/related", "/widget/related.html"]))
@SETTINGS
def test_arbitrary_query_strings_never_fail(client: FlaskClient, url: str, k: str | None,
                                            path: str) -> None:
    query = {"url": url} if k is None else {"url": url, "k": k}
    response = client.get(path, query_string=query)
    assert response.status_code in (200, 400, 404), response.data[:300]


@given(raw=st.text(st.characters(codec="utf-8"), min_size=1, max_size=400))
@SETTINGS
def test_arbitrary_ids_never_fail(client: FlaskClient, raw: str) -> None:
    for path in (f"/api/v1/articles/{quote(raw, safe='')}/related",
                 f"/demo/articles/{quote(raw, safe='')}"):
        response = client.get(path)
        assert response.status_code in (200, 400, 404), (path, response.data[:300])


@given(query=st.binary(max_size=400))
@SETTINGS
def test_raw_query_bytes_never_fail(client: FlaskClient, query: bytes) -> None:
    response = client.get("/api/v1/related", query_string=query.decode("latin-1"))
    assert response.status_code in (200, 400, 404)
