"""The public JSON API's contract: shapes, bounds, errors, caching, CORS, and what is never shown."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recommender.storage.schema import Article, Curation, RelatedItem, utcnow
from tests.helpers.demo import WIDGET_ORIGIN
from tests.helpers.openapi import schema_validator
from web.openapi import openapi_document

PAGE = "https://meridian.example/2025/12/russia-and-india-sign-oil-defence-and-payments-package-at-delhi-summit"
ITEM_FIELDS = {"id", "url", "title", "dek", "image", "section", "authors", "published_at",
               "read_minutes", "read_label", "position", "score"}


def _session(app: Flask) -> Session:
    return app.extensions["related"].session_factory()  # type: ignore[no-any-return]


def _related(client: FlaskClient, article_id: str = "demo-001", **headers: str) -> TestResponse:
    return client.get(f"/api/v1/articles/{article_id}/related", headers=headers)


def _ids(response: TestResponse) -> list[str]:
    return [item["id"] for item in response.get_json()["items"]]


# -- shapes ---------------------------------------------------------------------------------------

def test_related_by_id_has_the_documented_shape(app: Flask, client: FlaskClient) -> None:
    response = _related(client)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["article"] == {"id": "demo-001", "url": PAGE, "title": body["article"]["title"]}
    assert body["article"]["title"].startswith("Russia and India")
    assert len(body["items"]) == 3
    assert [item["position"] for item in body["items"]] == [1, 2, 3]
    for item in body["items"]:
        assert set(item) == ITEM_FIELDS
        assert item["id"] != "demo-001"
        assert item["url"].startswith("https://meridian.example/")
        assert re.fullmatch(r"\d+ mins? read", item["read_label"])
        assert item["read_label"] == (f"{item['read_minutes']} min read" if item["read_minutes"] == 1
                                      else f"{item['read_minutes']} mins read")
        assert datetime.fromisoformat(item["published_at"]).tzinfo is not None
        assert isinstance(item["authors"], list) and isinstance(item["score"], float)
    assert body["build_id"] == app.extensions["related"].recommender.store.current_id()
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_related_by_url_ignores_tracking_parameters_and_fragments(client: FlaskClient) -> None:
    by_id = _related(client)
    for variant in (PAGE, PAGE + "?utm_source=x", PAGE + "/?utm_source=x&fbclid=1#comments",
                    PAGE.replace("https://meridian.example", "HTTPS://Meridian.Example:443")):
        response = client.get("/api/v1/related", query_string={"url": variant})
        assert response.status_code == 200, variant
        assert response.get_json()["article"]["id"] == "demo-001"
        assert _ids(response) == _ids(by_id)
        assert response.headers["ETag"] == by_id.headers["ETag"]


def test_request_ids_are_fresh_or_a_plain_incoming_one(client: FlaskClient) -> None:
    first, second = _related(client), _related(client)
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    traced = _related(client, **{"X-Request-ID": "edge-1234abcd"})
    assert traced.headers["X-Request-ID"] == "edge-1234abcd"
    assert traced.get_json()["request_id"] == "edge-1234abcd"
    hostile = _related(client, **{"X-Request-ID": 'x"}<script>'})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.get_json()["request_id"])


# -- bounds and errors ----------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "expected"), [("1", 1), ("2", 2), ("", 3), (None, 3)])
def test_k_selects_how_many(client: FlaskClient, k: str | None, expected: int) -> None:
    query = {} if k is None else {"k": k}
    response = client.get("/api/v1/articles/demo-001/related", query_string=query)
    assert len(response.get_json()["items"]) == expected


def test_k_up_to_the_precomputed_length(app: Flask, client: FlaskClient) -> None:
    maximum = app.extensions["related"].settings.related_k
    response = client.get(f"/api/v1/articles/demo-001/related?k={maximum}")
    assert response.status_code == 200
    assert 3 <= len(response.get_json()["items"]) <= maximum


@pytest.mark.parametrize("k", ["0", "13", "-1", "abc", "1.5", " 3", "99999999999999999999", "３"])
def test_bad_k_is_a_400_naming_k(client: FlaskClient, k: str) -> None:
    for path, query in (("/api/v1/articles/demo-001/related", {"k": k}),
                        ("/api/v1/related", {"url": PAGE, "k": k})):
        response = client.get(path, query_string=query)
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == 400 and error["parameter"] == "k"
        assert "k must be an integer from 1 to 12" in error["message"]
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", [None, "", "   ", "not a url", "ftp://meridian.example/x",
                                 "https://", "http://[::1", "https://x.example/\x00",
                                 "https://x.example/" + "a" * 3000])
def test_bad_url_is_a_400_naming_url(client: FlaskClient, url: str | None) -> None:
    response = client.get("/api/v1/related", query_string={} if url is None else {"url": url})
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == "url"


@pytest.mark.parametrize("article_id", ["nope", "demo-086", "demo-084"])
def test_unknown_draft_or_unpublished_article_is_a_404(client: FlaskClient, article_id: str) -> None:
    response = _related(client, article_id)
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == 404 and article_id in error["message"]
    assert "parameter" not in error


def test_unknown_url_is_a_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/related", query_string={"url": "https://meridian.example/no"})
    assert response.status_code == 404
    assert "no published article" in response.get_json()["error"]["message"]


def test_bad_ids_and_methods_and_routes_answer_json(client: FlaskClient) -> None:
    assert _related(client, "a\x01b").get_json()["error"]["parameter"] == "id"
    assert _related(client, "x" * 300).get_json()["error"]["parameter"] == "id"
    posted = client.post("/api/v1/related", data="x" * 1000)
    assert posted.status_code == 405 and posted.get_json()["error"]["code"] == 405
    assert "GET" in posted.headers["Allow"]
    missing = client.get("/api/v2/related")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == 404


def test_request_bodies_are_bounded(app: Flask, client: FlaskClient) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit is not None and limit <= 10 * 1024 * 1024
    too_big = b"x" * (limit + 1)
    response = client.get("/api/v1/articles/demo-001/related", data=too_big)
    assert response.status_code in (200, 413)  # a GET ignores its body; nothing reads past the cap
    assert client.put("/api/v1/related", data=too_big).status_code in (405, 413)


def test_ids_with_slashes_are_reachable(app: Flask, client: FlaskClient) -> None:
    with _session(app) as session:
        article = session.scalars(select(Article).where(Article.external_id == "demo-002")).one()
        article.external_id = "https://meridian.example/2025/12/slashed"
        session.commit()
    response = client.get("/api/v1/articles/https://meridian.example/2025/12/slashed/related")
    assert response.status_code == 200
    assert response.get_json()["article"]["id"] == "https://meridian.example/2025/12/slashed"


def test_a_bug_is_a_json_500_and_no_traceback(app: Flask, client: FlaskClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from web import lookup

    def broken(*_args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(lookup, "lookup_related", broken)
    response = _related(client)
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": 500, "message": "internal error"}}


# -- caching --------------------------------------------------------------------------------------

def test_etag_and_if_none_match(client: FlaskClient) -> None:
    first = _related(client)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["Cache-Control"] == "public, max-age=300, stale-while-revalidate=3600"
    again = _related(client, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and "Cache-Control" in again.headers
    assert _related(client, **{"If-None-Match": "W/" + etag}).status_code == 304
    assert _related(client, **{"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert _related(client, **{"If-None-Match": '"other"'}).status_code == 200
    other_k = client.get("/api/v1/articles/demo-001/related?k=2")
    assert other_k.headers["ETag"] != etag


def test_cache_settings_are_honoured(demo_settings: Any) -> None:
    from dataclasses import replace

    from web import create_app

    app = create_app(replace(demo_settings, cache_max_age=60, stale_while_revalidate=5))
    response = _related(app.test_client())
    assert response.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=5"
    app.extensions["related"].engine.dispose()


# -- CORS -----------------------------------------------------------------------------------------

def test_cors_for_configured_origins_only(client: FlaskClient) -> None:
    allowed = _related(client, Origin=WIDGET_ORIGIN)
    assert allowed.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = _related(client, Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers["Vary"]
    error = _related(client, "nope", Origin=WIDGET_ORIGIN)  # the script can read a 404
    assert error.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN
    preflight = client.options("/api/v1/related", headers={
        "Origin": WIDGET_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert preflight.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    health = client.get("/readyz", headers={"Origin": WIDGET_ORIGIN})
    assert "Access-Control-Allow-Origin" not in health.headers


def test_no_cors_by_default_and_star_when_configured(demo_settings: Any) -> None:
    from dataclasses import replace

    from web import create_app

    for origins, expected in (((), None), (("*",), "*")):
        app = create_app(replace(demo_settings, widget_origins=origins))
        response = _related(app.test_client(), Origin=WIDGET_ORIGIN)
        assert response.headers.get("Access-Control-Allow-Origin") == expected
        app.extensions["related"].engine.dispose()


# -- never an unpublished or blocked item, even from a stale stored list --------------------------

def _first_target(app: Flask, client: FlaskClient) -> tuple[str, list[str]]:
    ids = _ids(_related(client))
    return ids[0], ids


def test_unpublished_item_disappears_without_a_refresh(any_db_app: Flask) -> None:
    client = any_db_app.test_client()
    target, _ = _first_target(any_db_app, client)
    etag = _related(client).headers["ETag"]
    _related(client)  # memoised now: the change below must still show at once
    assert len(any_db_app.extensions["related_memo"]) > 0
    with _session(any_db_app) as session:
        article = session.scalars(select(Article).where(Article.external_id == target)).one()
        stored = session.scalar(select(RelatedItem.id).where(RelatedItem.target_id == article.id))
        article.status = "unpublished"
        session.commit()
    assert stored is not None  # the stored lists still name it: only serving filters it
    after = _related(client)
    assert target not in _ids(after) and len(_ids(after)) == 3
    assert after.headers["ETag"] != etag
    assert _related(client, **{"If-None-Match": etag}).status_code == 200
    fragment = client.get("/widget/related.html", query_string={"url": PAGE})
    assert f'data-rr-id="{target}"' not in fragment.get_data(as_text=True)


def test_future_dated_item_disappears(any_db_app: Flask) -> None:
    client = any_db_app.test_client()
    target, _ = _first_target(any_db_app, client)
    with _session(any_db_app) as session:
        article = session.scalars(select(Article).where(Article.external_id == target)).one()
        article.published_at = utcnow() + timedelta(days=2)
        session.commit()
    assert target not in _ids(_related(client))


def test_site_wide_block_disappears_everywhere(any_db_app: Flask) -> None:
    client = any_db_app.test_client()
    target, _ = _first_target(any_db_app, client)
    with _session(any_db_app) as session:
        article = session.scalars(select(Article).where(Article.external_id == target)).one()
        holders = [a for (a,) in session.execute(
            select(Article.external_id).join(RelatedItem, RelatedItem.article_id == Article.id)
            .where(RelatedItem.target_id == article.id))]
        session.add(Curation(kind="block", article_id=None, target_id=article.id,
                             reason="legal", created_by="test"))
        session.commit()
    assert holders
    for holder in holders:
        response = client.get(f"/api/v1/articles/{holder}/related?k=12")
        assert target not in _ids(response)


def test_raw_sql_changes_invalidate_the_memo(app: Flask, client: FlaskClient) -> None:
    target, _ = _first_target(app, client)
    with app.extensions["related"].engine.begin() as conn:
        conn.exec_driver_sql("UPDATE articles SET status = 'draft' WHERE external_id = ?", (target,))
    assert target not in _ids(_related(client))


def test_an_empty_list_is_an_empty_array(app: Flask, client: FlaskClient) -> None:
    with _session(app) as session:
        page = session.scalars(select(Article).where(Article.external_id == "demo-001")).one()
        session.execute(delete(RelatedItem).where(RelatedItem.article_id == page.id))
        session.commit()
    body = _related(client).get_json()
    assert body["items"] == [] and body["article"]["id"] == "demo-001"


# -- the OpenAPI document ---------------------------------------------------------------------------

def _documented(app: Flask) -> set[str]:
    return set(openapi_document(app.extensions["related"].settings)["paths"])


def _rule_paths(app: Flask) -> set[str]:
    paths = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("demo."):
            continue  # the demo magazine's pages are a demo, not an interface
        if rule.endpoint.startswith("editor."):
            continue  # the editors' HTML pages (web/editor), not an API
        paths.add(re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule))
    return paths


def test_openapi_documents_every_route_and_only_routes(app: Flask, client: FlaskClient) -> None:
    rules, documented = _rule_paths(app), _documented(app)
    assert {p for p in rules if p.startswith("/api/")} <= documented  # every /api rule
    assert documented <= rules  # and nothing that does not exist
    assert {"/widget/related.html", "/widget/v1.js", "/healthz", "/readyz", "/metrics"} <= documented
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.get_json()["openapi"].startswith("3.")
    assert set(served.get_json()["paths"]) == documented


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/articles/demo-001/related", 200), (f"/api/v1/related?url={PAGE}&k=2", 200),
    ("/api/v1/related?k=x&url=" + PAGE, 400), ("/api/v1/articles/nope/related", 404),
    ("/healthz", 200), ("/readyz", 200)])
def test_responses_validate_against_the_documented_schemas(app: Flask, client: FlaskClient,
                                                          path: str, status: int) -> None:
    document = openapi_document(app.extensions["related"].settings)
    response = client.get(path)
    assert response.status_code == status
    template = next(p for p in document["paths"]
                    if re.fullmatch(re.sub(r"\{[a-z_]+\}", ".+", p), path.split("?")[0]))
    documented = document["paths"][template]["get"]["responses"][str(status)]
    schema = documented["content"][response.mimetype]["schema"]
    schema_validator(document, schema).validate(json.loads(response.data))


# -- the read path stays light ----------------------------------------------------------------------

def test_web_never_loads_the_model_or_faiss(demo_dir: Path) -> None:
    code = f"""
import sys
import web
heavy = ('torch', 'faiss', 'sklearn', 'sentence_transformers')
assert not [m for m in heavy if m in sys.modules], 'import web'
app = web.create_app()
client = app.test_client()
assert client.get('/api/v1/articles/demo-001/related').status_code == 200
assert client.get('/widget/related.html?url={PAGE}').status_code == 200
assert client.get('/demo/articles/demo-001').status_code == 200
assert client.get('/readyz').status_code == 200
assert client.get('/metrics').status_code == 200
loaded = [m for m in heavy if m in sys.modules]
assert not loaded, loaded
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
    env.update(RELATED_DATA_DIR=str(demo_dir), RELATED_DEMO_SITE="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert result.returncode == 0, result.stderr
