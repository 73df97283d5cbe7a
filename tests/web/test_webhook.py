"""The CMS's publish webhook: authentication, all-or-nothing validation, bounds, and lists that are
already right when the response arrives (published, updated, withdrawn; repeats change nothing).

The app's Recommender gets the fake encoder (the demo was built with it), so nothing loads the
sentence model. The end-to-end flows run on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recommender.accounts.apikeys import create_key, revoke_key
from recommender.cli.main import DEMO_DIR
from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage.schema import Article, AuditEntry, RelatedItem
from tests.helpers.demo import WIDGET_ORIGIN
from tests.helpers.fakes import FakeEncoder
from tests.helpers.multilingual import translations
from web import create_app
from web.ingest import MAX_BODY_BYTES

K = 12
NEW_ARTICLE: dict[str, Any] = {
    "id": "cms-new-1",
    "url": "https://wire.example/2025/12/indian-refiners-sign-rupee-rouble-crude-deal?utm_source=x",
    "title": "Indian Refiners Sign Ten-Year Russian Crude Deal Settled in Rupees and Roubles",
    "dek": "The crude framework agreed at the Delhi summit turns into contracts for Indian refiners.",
    "body": "<p>Indian refiners signed contracts on Monday under the ten-year crude framework that "
            "the Indian prime minister and the Russian president agreed at their Delhi summit. "
            "Russian state producers will supply a guaranteed minimum volume of crude, priced "
            "against a regional benchmark, and invoices will be settled in rupees and roubles "
            "through the linked messaging systems of both central banks.</p><p>Refiners said the "
            "rupee-rouble settlement avoids correspondent banks in third countries, while traders "
            "warned that unspent rupee balances are piling up in Russian accounts and that US "
            "secondary tariffs on buyers of Russian oil remain a risk for Indian exporters.</p>",
    "authors": ["Wire Desk"], "tags": ["india", "russia", "oil"], "section": "Asia",
    "content_type": "news", "published_at": "2025-12-08T09:00:00Z",
}


def _use_fake_encoder(app: Flask) -> Recommender:
    """Give the app a Recommender with the fake encoder (the demo's embeddings were made with it)."""
    resources = app.extensions["related"]
    recommender = Recommender(resources.settings, resources.session_factory, encoder=FakeEncoder())
    app.extensions["related"] = replace(resources, recommender=recommender)
    return recommender


def _session(app: Flask) -> Session:
    return app.extensions["related"].session_factory()  # type: ignore[no-any-return]


def _new_key(app: Flask, name: str = "cms") -> str:
    with _session(app) as session:
        key = create_key(session, name)
        session.commit()
    return key


class Hook:
    """The webhook as the CMS sees it, with a key and a count of refreshes behind it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.recommender = _use_fake_encoder(app)
        self.key = _new_key(app)
        self.refreshes = 0
        real: Callable[..., Any] = self.recommender.refresh

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.refreshes += 1
            return real(*args, **kwargs)

        self.recommender.refresh = counting  # type: ignore[method-assign]

    def post(self, payload: Any, key: str | None = None, **headers: str) -> TestResponse:
        auth = {"Authorization": f"Bearer {key or self.key}"}
        return self.client.post("/api/v1/articles", json=payload, headers={**auth, **headers})

    def delete(self, article_id: str) -> TestResponse:
        return self.client.delete(f"/api/v1/articles/{article_id}",
                                  headers={"Authorization": f"Bearer {self.key}"})

    def related(self, article_id: str) -> TestResponse:
        return self.client.get(f"/api/v1/articles/{article_id}/related?k={K}")

    def related_ids(self, article_id: str) -> list[str]:
        response = self.related(article_id)
        assert response.status_code == 200, (article_id, response.get_json())
        return [item["id"] for item in response.get_json()["items"]]

    def lists_containing(self, external_id: str) -> list[str]:
        """CMS ids of the articles whose stored list holds this one."""
        with _session(self.app) as session:
            target = session.scalars(select(Article.id).where(
                Article.external_id == external_id)).one()
            return sorted(session.scalars(
                select(Article.external_id).join(RelatedItem, RelatedItem.article_id == Article.id)
                .where(RelatedItem.target_id == target)))

    def stored(self, external_id: str) -> Article | None:
        with _session(self.app) as session:
            return session.scalars(select(Article).where(
                Article.external_id == external_id)).first()


@pytest.fixture
def hook(app: Flask) -> Hook:
    """The webhook over a private copy of the demo magazine (SQLite)."""
    return Hook(app)


@pytest.fixture
def any_db_hook(any_db_app: Flask) -> Hook:
    """The webhook over the demo magazine on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""
    return Hook(any_db_app)


def _demo_record(article_id: str) -> dict[str, Any]:
    for path in sorted(DEMO_DIR.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record: dict[str, Any] = json.loads(line)
            if record["id"] == article_id:
                return record
    raise LookupError(article_id)


# -- publishing -------------------------------------------------------------------------------------

def test_a_published_article_is_in_its_neighbours_lists_when_the_response_arrives(
        any_db_hook: Hook) -> None:
    hook = any_db_hook
    response = hook.post(NEW_ARTICLE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    [item] = body["items"]
    assert item["id"] == "cms-new-1" and item["action"] == "added"
    assert item["status"] == "published"
    assert item["lists_updated"] >= 2 and body["lists_updated"] >= item["lists_updated"]
    # its own list exists and is about the same story
    own = hook.related_ids("cms-new-1")
    assert len(own) >= 3 and {"demo-001", "demo-003", "demo-006", "demo-067"} & set(own[:5])
    # it is already in its closest neighbours' lists, as served to readers
    holders = hook.lists_containing("cms-new-1")
    assert holders and {"demo-001", "demo-003", "demo-006", "demo-067"} & set(holders)
    for page in holders:
        assert "cms-new-1" in hook.related_ids(page), page
    stored = hook.stored("cms-new-1")
    assert stored is not None and stored.url.endswith("rupee-rouble-crude-deal")  # normalised
    with _session(hook.app) as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.article_id == stored.id)).one()
        assert (audit.actor, audit.action) == ("api-key:cms", "article-added")


def test_repeating_a_request_changes_nothing(any_db_hook: Hook) -> None:
    hook = any_db_hook
    assert hook.post(NEW_ARTICLE).status_code == 201
    assert hook.refreshes == 1
    neighbour = hook.lists_containing("cms-new-1")[0]
    before = hook.related(neighbour)
    second, third = hook.post(NEW_ARTICLE), hook.post({"articles": [NEW_ARTICLE]})
    assert second.status_code == third.status_code == 200
    assert second.get_json() == third.get_json() == {
        "items": [{"id": "cms-new-1", "action": "unchanged", "status": "published",
                   "lists_updated": 0}], "lists_updated": 0}
    assert hook.refreshes == 1  # an unchanged article refreshes nothing
    after = hook.related(neighbour)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.get_json()["items"] == before.get_json()["items"]


def test_an_article_without_a_date_is_not_updated_by_a_repeat(hook: Hook) -> None:
    undated = {k: v for k, v in NEW_ARTICLE.items() if k != "published_at"}
    assert hook.post(undated).get_json()["items"][0]["action"] == "added"
    first = hook.stored("cms-new-1")
    repeat = hook.post(undated).get_json()["items"][0]
    assert repeat["action"] == "unchanged" and hook.refreshes == 1
    again = hook.stored("cms-new-1")
    assert first is not None and again is not None and again.published_at == first.published_at


def test_an_update_is_refreshed_and_reported_per_item(hook: Hook) -> None:
    assert hook.post(NEW_ARTICLE).status_code == 201
    edited = {**NEW_ARTICLE, "title": NEW_ARTICLE["title"] + " (corrected)"}
    other = _demo_record("demo-050")
    response = hook.post([edited, other])
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(i["id"], i["action"]) for i in items] == [("cms-new-1", "updated"),
                                                       ("demo-050", "unchanged")]
    assert items[0]["lists_updated"] >= 1 and items[1]["lists_updated"] == 0
    assert hook.refreshes == 2
    with _session(hook.app) as session:
        ids = session.scalars(select(Article.id).where(Article.external_id == "cms-new-1")).all()
        assert len(ids) == 1  # updated in place


# -- withdrawing ------------------------------------------------------------------------------------

def _assert_gone_everywhere(hook: Hook, article_id: str, pages: list[str]) -> None:
    assert hook.lists_containing(article_id) == []  # the stored lists, not only the live filter
    for page in pages:
        if hook.stored(page) is not None and page != article_id:
            assert article_id not in hook.related_ids(page), page
    assert hook.related(article_id).status_code == 404


def test_delete_withdraws_from_every_list_before_answering(any_db_hook: Hook) -> None:
    hook = any_db_hook
    holders = hook.lists_containing("demo-003")
    assert len(holders) >= 3
    response = hook.delete("demo-003")
    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["items"]
    assert item == {"id": "demo-003", "action": "withdrawn", "status": "unpublished",
                    "lists_updated": len(holders)}
    _assert_gone_everywhere(hook, "demo-003", holders)
    for page in holders:  # refilled, not left short
        assert len(hook.related_ids(page)) == K
    again = hook.delete("demo-003")
    assert again.status_code == 200
    assert again.get_json()["items"][0]["action"] == "unchanged" and hook.refreshes == 1


def test_posting_status_unpublished_withdraws(any_db_hook: Hook) -> None:
    hook = any_db_hook
    holders = hook.lists_containing("demo-006")
    assert holders
    response = hook.post({**_demo_record("demo-006"), "status": "unpublished"})
    assert response.status_code == 200
    assert response.get_json()["items"][0] == {"id": "demo-006", "action": "updated",
                                               "status": "unpublished",
                                               "lists_updated": len(holders)}
    _assert_gone_everywhere(hook, "demo-006", holders)


def test_deleting_an_unknown_article_is_a_404(hook: Hook) -> None:
    response = hook.delete("no-such-article")
    assert response.status_code == 404
    assert response.get_json()["error"] == {"code": 404,
                                            "message": "no article with id 'no-such-article'"}
    bad = hook.delete("a\x01b")
    assert bad.status_code == 400 and bad.get_json()["error"]["parameter"] == "id"
    assert hook.refreshes == 0


def test_ids_with_slashes_can_be_withdrawn(hook: Hook) -> None:
    record = {**NEW_ARTICLE, "id": "https://wire.example/2025/12/slashed"}
    assert hook.post(record).status_code == 201
    response = hook.delete("https://wire.example/2025/12/slashed")
    assert response.status_code == 200 and response.get_json()["items"][0]["action"] == "withdrawn"


# -- authentication ---------------------------------------------------------------------------------

def _assert_401(response: TestResponse) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="related-reading"')
    assert response.get_json()["error"]["code"] == 401
    assert "Access-Control-Allow-Origin" not in response.headers


def test_requests_without_a_valid_key_are_refused(hook: Hook) -> None:
    _assert_401(hook.client.post("/api/v1/articles", json=NEW_ARTICLE))
    _assert_401(hook.client.delete("/api/v1/articles/demo-001"))
    for header in ("Bearer", "Bearer ", f"Basic {hook.key}", f"Token {hook.key}",
                   f"Bearer {hook.key}x", "Bearer not-a-key"):
        for response in (hook.client.post("/api/v1/articles", json=NEW_ARTICLE,
                                          headers={"Authorization": header}),
                         hook.client.delete("/api/v1/articles/demo-001",
                                            headers={"Authorization": header})):
            _assert_401(response)
    wrong = hook.post(NEW_ARTICLE, key="not-a-key")
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    assert hook.stored("cms-new-1") is None and hook.stored("demo-001").status == "published"  # type: ignore[union-attr]
    assert hook.refreshes == 0


def test_a_revoked_key_is_refused(hook: Hook) -> None:
    with _session(hook.app) as session:
        revoke_key(session, "cms")
        session.commit()
    _assert_401(hook.post(NEW_ARTICLE))
    _assert_401(hook.delete("demo-001"))
    assert hook.stored("cms-new-1") is None


def test_a_key_from_settings_is_accepted(demo_settings: Settings) -> None:
    configured = "configured-key-for-the-cms-0123456789abcdef"
    app = create_app(replace(demo_settings, api_keys=(configured,)), {"TESTING": True})
    try:
        hook = Hook(app)
        response = hook.post(NEW_ARTICLE, key=configured)
        assert response.status_code == 201
        with _session(app) as session:
            actor = session.scalars(select(AuditEntry.actor)).one()
        assert actor == "api-key:RELATED_API_KEYS[1]"
    finally:
        app.extensions["related"].engine.dispose()


def test_browsers_get_no_cors_even_from_the_widget_origin(hook: Hook) -> None:
    response = hook.post(NEW_ARTICLE, Origin=WIDGET_ORIGIN)
    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = hook.client.options("/api/v1/articles", headers={
        "Origin": WIDGET_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Headers" not in preflight.headers
    # the readers' API keeps its CORS
    related = hook.client.get("/api/v1/articles/demo-001/related", headers={"Origin": WIDGET_ORIGIN})
    assert related.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN


def test_last_used_is_recorded(hook: Hook) -> None:
    from recommender.storage.account_tables import ApiKey

    hook.post(NEW_ARTICLE)
    with _session(hook.app) as session:
        assert session.scalars(select(ApiKey.last_used)).one() is not None


# -- validation and bounds --------------------------------------------------------------------------

def test_every_problem_is_listed_and_nothing_is_stored(hook: Hook) -> None:
    demo_url = _demo_record("demo-002")["url"]
    payload = [
        NEW_ARTICLE,
        {"id": "cms-bad-1", "url": "not a url", "title": " ", "status": "gone",
         "published_at": "yesterday"},
        "just a string",
        {**NEW_ARTICLE, "url": "https://wire.example/other"},  # same id again
        {**NEW_ARTICLE, "id": "cms-new-2"},  # same URL again
        {**NEW_ARTICLE, "id": "cms-new-3", "url": demo_url},  # another article's URL
        {"url": "https://wire.example/x", "title": "No id", "tags": {"not": "a list"}},
    ]
    response = hook.post(payload)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == 422 and "nothing was stored" in error["message"]
    problems = {(p["index"], p["field"]) for p in error["problems"]}
    assert problems == {(1, "url"), (1, "title"), (1, "status"), (1, "published_at"),
                        (2, None), (3, "id"), (4, "url"), (5, "url"), (6, "id"), (6, "tags")}
    messages = {(p["index"], p["field"]): p["message"] for p in error["problems"]}
    assert "duplicate id 'cms-new-1' (first at index 0)" in messages[(3, "id")]
    assert "already used by article 'demo-002'" in messages[(5, "url")]
    assert [p["index"] for p in error["problems"]] == sorted(p["index"] for p in error["problems"])
    assert hook.stored("cms-new-1") is None and hook.refreshes == 0
    with _session(hook.app) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize(("payload", "message"), [
    ([], "no articles"), ({"articles": "x"}, "must be a list"), (42, "expected an article"),
    ([NEW_ARTICLE] * 501, "at most 500 articles"),
])
def test_malformed_requests_are_422(hook: Hook, payload: Any, message: str) -> None:
    response = hook.post(payload)
    assert response.status_code == 422
    assert message in response.get_json()["error"]["message"]
    assert hook.refreshes == 0


def test_bodies_are_bounded_at_5_mb_and_must_be_json(hook: Hook) -> None:
    headers = {"Authorization": f"Bearer {hook.key}", "Content-Type": "application/json"}
    big = hook.client.post("/api/v1/articles", data=b"[" + b" " * MAX_BODY_BYTES + b"]",
                           headers=headers)
    assert big.status_code == 413 and big.get_json()["error"]["code"] == 413
    # far above the readers' 64 KB cap, well under 5 MB: accepted
    long_read = {**NEW_ARTICLE, "body": NEW_ARTICLE["body"] + "<p>More detail.</p>" * 20_000}
    assert hook.post(long_read).status_code == 201
    not_json = hook.client.post("/api/v1/articles", data="id=1",
                                headers={"Authorization": f"Bearer {hook.key}"})
    assert not_json.status_code == 415
    broken = hook.client.post("/api/v1/articles", data=b'{"id": ', headers=headers)
    assert broken.status_code == 400 and "not valid JSON" in broken.get_json()["error"]["message"]
    deep = hook.client.post("/api/v1/articles", data=b"[" * 100_000, headers=headers)
    assert deep.status_code == 400


def test_other_methods_are_405(hook: Hook) -> None:
    response = hook.client.get("/api/v1/articles", headers={"Authorization": f"Bearer {hook.key}"})
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_published_translations_never_cross_languages(any_db_hook: Hook) -> None:
    """Translations of demo articles published through the API (each nearest to its original):
    after the live refresh no list served crosses languages, either way, filler included."""
    hook = any_db_hook
    records = translations("fr", 4) + translations("de", 1)
    response = hook.post(records)
    assert response.status_code in (200, 201), response.get_json()
    for record in records:  # the translations' lists: their own language only
        own = hook.related_ids(record["id"])
        assert all(i.startswith(record["language"] + "-") for i in own), (record["id"], own)
    assert len(hook.related_ids("fr-demo-001")) == 3 and hook.related_ids("de-demo-001") == []
    for original in ("demo-001", "demo-002", "demo-003", "demo-004"):  # and none in English lists
        assert all(i.startswith("demo-") for i in hook.related_ids(original)), original
    assert not set(hook.lists_containing("fr-demo-001")) - {"fr-demo-002", "fr-demo-003",
                                                             "fr-demo-004"}


@pytest.mark.parametrize(("field", "value"), [
    ("id", "cms\x00new"), ("id", "cms\nnew"), ("id", "cms\x7fnew"), ("url", NEW_ARTICLE["url"] + "\x00"),
    ("url", NEW_ARTICLE["url"].replace("deal", "de\tal")), ("title", "Refiners \ud800"),
    ("body", "<p>crude \udfff</p>"), ("authors", ["Wire \ud800 Desk"]),
    ("image", "javascript:alert(document.cookie)"), ("image", "data:image/png;base64,AAAA")])
def test_text_that_is_not_text_and_unsafe_images_are_422(any_db_hook: Hook, field: str,
                                                         value: Any) -> None:
    """Refused naming the field (SQLite and PostgreSQL), nothing stored, never a 500; before,
    an id with a control character was created and could then never be read or deleted."""
    hook = any_db_hook
    with _session(hook.app) as session:
        before = session.scalar(select(func.count()).select_from(Article))
    response = hook.post({**NEW_ARTICLE, field: value})
    assert response.status_code == 422, response.get_data(as_text=True)
    [problem] = response.get_json()["error"]["problems"]
    assert (problem["index"], problem["field"]) == (0, field)
    assert hook.refreshes == 0
    with _session(hook.app) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == before


def _chunked(hook: Hook, body: bytes) -> TestResponse:
    """A body with no Content-Length, as a chunked upload reaches the app from gunicorn."""
    return hook.client.post("/api/v1/articles", input_stream=io.BytesIO(body),
                            headers={"Authorization": f"Bearer {hook.key}",
                                     "Content-Type": "application/json",
                                     "Transfer-Encoding": "chunked"},
                            environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_body_over_the_cap_is_413_not_bad_json(hook: Hook) -> None:
    big = _chunked(hook, b"[" + b" " * MAX_BODY_BYTES + b"]")
    assert big.status_code == 413, big.get_data(as_text=True)
    assert big.get_json()["error"]["code"] == 413
    exactly = _chunked(hook, json.dumps(NEW_ARTICLE).encode().ljust(MAX_BODY_BYTES))
    assert exactly.status_code == 201, exactly.get_data(as_text=True)


def test_valid_articles_that_clash_are_409(hook: Hook) -> None:
    """Well-formed articles that clash (an id twice, a URL another article has): 409 with the
    same problem list as a 422, nothing stored; a request with an invalid item stays a 422."""
    taken = {**NEW_ARTICLE, "id": "cms-other", "url": _demo_record("demo-002")["url"]}
    response = hook.post([NEW_ARTICLE, {**NEW_ARTICLE, "url": NEW_ARTICLE["url"] + "-2"}, taken])
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == 409
    assert [(p["index"], p["field"]) for p in error["problems"]] == [(1, "id"), (2, "url")]
    assert hook.stored("cms-new-1") is None and hook.refreshes == 0
    assert hook.post([NEW_ARTICLE, NEW_ARTICLE, {"id": "x"}]).status_code == 422


def test_delete_is_not_a_method_of_a_related_list(hook: Hook) -> None:
    """``DELETE /articles/<id>`` used to match ``/articles/<id>/related`` too, so OPTIONS there
    advertised DELETE; now the list allows only what it serves, and DELETE on it is a 405."""
    options = hook.client.options("/api/v1/articles/demo-001/related")
    assert set(options.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    response = hook.client.delete("/api/v1/articles/demo-001/related",
                                  headers={"Authorization": f"Bearer {hook.key}"})
    assert response.status_code == 405 and response.get_json()["error"]["code"] == 405
    assert hook.stored("demo-001") is not None and hook.stored("demo-001").status == "published"
    assert hook.delete("demo-001").status_code == 200  # an id with a slash still can be withdrawn
    assert hook.client.delete("/api/v1/articles/a/b", headers={
        "Authorization": f"Bearer {hook.key}"}).status_code == 404
