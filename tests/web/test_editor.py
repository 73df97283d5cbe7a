"""The editors' pages and the preview API: access control, CSRF, the sign-in limit, escaping,
curation through the pages and its immediate effect on the public API, previews and policies."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from recommender.accounts import users
from recommender.jobs.build import full_build
from recommender.settings import Settings
from recommender.storage.schema import Article, AuditEntry, Curation, SavedPolicy, utcnow
from tests.helpers.editing import (
    EDITOR,
    PASSWORD,
    add_editor,
    article_id,
    csrf,
    post,
    session_of,
    sign_in,
    use_fake_encoder,
)
from tests.helpers.fakes import FakeEncoder
from web import create_app

API_KEY = "test-preview-key-0123456789"
XSS = "<script>alert(1)</script>"


@pytest.fixture
def editor_app(demo_settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(replace(demo_settings, api_keys=(API_KEY,)), {"TESTING": True})
    use_fake_encoder(flask_app)
    add_editor(flask_app)
    yield flask_app
    flask_app.extensions["related"].engine.dispose()


@pytest.fixture
def anon(editor_app: Flask) -> FlaskClient:
    return editor_app.test_client()


@pytest.fixture
def ed(editor_app: Flask) -> FlaskClient:
    client = editor_app.test_client()
    assert sign_in(client).status_code == 303
    return client


def _editor_rules(app: Flask) -> list[tuple[str, set[str]]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/editor"):
            path = re.sub(r"<int:[a-z_]+>", "1", rule.rule)
            rules.append((path, set(rule.methods or ()) & {"GET", "POST"}))
    return rules


def _api_ids(client: FlaskClient, external_id: str = "demo-001", k: int = 3) -> tuple[list[str], str]:
    response = client.get(f"/api/v1/articles/{external_id}/related?k={k}")
    assert response.status_code == 200
    return [i["id"] for i in response.get_json()["items"]], response.headers["ETag"]


# -- access control ---------------------------------------------------------------------------------

def test_every_editor_route_refuses_anonymous_visitors(editor_app: Flask, anon: FlaskClient) -> None:
    rules = _editor_rules(editor_app)
    assert len(rules) >= 10
    for path, methods in rules:
        if path == "/editor/sign-in":
            continue
        for method in methods:
            response = anon.open(path, method=method, data={"csrf_token": csrf(anon)})
            assert response.status_code == 303, (method, path)
            assert response.headers["Location"].startswith("/editor/sign-in"), (method, path)
    assert anon.get("/editor/articles/1").headers["Location"] == \
        "/editor/sign-in?next=/editor/articles/1"


def test_bad_credentials_and_disabled_accounts_get_nothing(editor_app: Flask,
                                                           anon: FlaskClient) -> None:
    assert sign_in(anon, password="not the password").status_code == 401
    assert sign_in(anon, name="nobody").status_code == 401
    assert anon.get("/editor/").status_code == 303
    with session_of(editor_app) as session:
        users.set_disabled(session, EDITOR, True)
        session.commit()
    assert sign_in(anon).status_code == 401


def test_a_disabled_account_loses_its_session_at_once(editor_app: Flask, ed: FlaskClient) -> None:
    assert ed.get("/editor/").status_code == 200
    with session_of(editor_app) as session:
        users.set_disabled(session, EDITOR, True)
        session.commit()
    assert ed.get("/editor/").status_code == 303


def test_sign_in_then_out(ed: FlaskClient) -> None:
    page = ed.get("/editor/")
    assert page.status_code == 200 and EDITOR in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert post(ed, "/editor/sign-out").status_code == 303
    assert ed.get("/editor/").status_code == 303


def test_session_cookie_flags(editor_app: Flask, anon: FlaskClient) -> None:
    cookie = sign_in(anon).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    over_https = editor_app.test_client().get("/editor/sign-in", base_url="https://localhost")
    assert "; Secure" in over_https.headers["Set-Cookie"]


def test_next_never_leaves_the_editor(anon: FlaskClient) -> None:
    for target, expected in (("/editor/audit", "/editor/audit"), ("https://evil.example/", "/editor/"),
                             ("//evil.example/editor", "/editor/"), ("/api/v1/openapi.json", "/editor/")):
        response = anon.post("/editor/sign-in", data={"name": EDITOR, "password": PASSWORD,
                                                      "next": target, "csrf_token": csrf(anon)})
        assert response.headers["Location"] == expected, target


# -- CSRF and the sign-in limit ---------------------------------------------------------------------

def test_posts_without_the_csrf_token_are_rejected(editor_app: Flask, ed: FlaskClient) -> None:
    page = article_id(editor_app, "demo-001")
    for data in ({}, {"csrf_token": "forged"}):
        response = ed.post(f"/editor/articles/{page}/pin",
                           data={"target": "demo-010", "position": "1", **data})
        assert response.status_code == 400
    with session_of(editor_app) as session:
        assert session.query(Curation).count() == 0
    anon = editor_app.test_client()
    assert anon.post("/editor/sign-in", data={"name": EDITOR, "password": PASSWORD}).status_code == 400


def test_sign_in_is_rate_limited_per_name_and_address_across_workers(editor_app: Flask,
                                                                     demo_settings: Settings) -> None:
    client = editor_app.test_client()
    for _ in range(users.MAX_FAILURES):
        assert sign_in(client, password="wrong password!").status_code == 401
    locked = sign_in(client)  # even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    # another worker (another app on the same database) enforces the same limit
    other = create_app(demo_settings, {"TESTING": True})
    try:
        assert sign_in(other.test_client()).status_code == 429
    finally:
        other.extensions["related"].engine.dispose()
    elsewhere = editor_app.test_client()
    elsewhere_response = elsewhere.post("/editor/sign-in", environ_base={"REMOTE_ADDR": "10.9.9.9"},
                                        data={"name": EDITOR, "password": PASSWORD,
                                              "csrf_token": csrf(elsewhere)})
    assert elsewhere_response.status_code == 303


def _sign_in_from(client: FlaskClient, forwarded_for: str, password: str = PASSWORD) -> int:
    return client.post("/editor/sign-in", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                       headers={"X-Forwarded-For": forwarded_for},
                       data={"name": EDITOR, "password": password,
                             "csrf_token": csrf(client)}).status_code


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_sign_in_limit_behind_a_reverse_proxy(demo_settings: Settings, proxies: int) -> None:
    """With RELATED_TRUSTED_PROXIES the limit counts per client address the proxy reports, and
    a client cannot dodge it by sending its own X-Forwarded-For; without, the header is
    ignored (every request counts against the connecting address)."""
    app = create_app(replace(demo_settings, trusted_proxies=proxies), {"TESTING": True})
    use_fake_encoder(app)
    add_editor(app)
    try:
        attacker = app.test_client()
        for _ in range(users.MAX_FAILURES):
            assert _sign_in_from(attacker, "203.0.113.5", "wrong password!") == 401
        # the attacker prepends an address of its choice; the proxy appends the real one
        assert _sign_in_from(attacker, "192.0.2.1, 203.0.113.5") == 429
        colleague = _sign_in_from(app.test_client(), "198.51.100.7")
        assert colleague == (303 if proxies else 429)
    finally:
        app.extensions["related"].engine.dispose()


# -- pages ------------------------------------------------------------------------------------------

def test_pages_render(editor_app: Flask, ed: FlaskClient) -> None:
    page = article_id(editor_app, "demo-001")
    for path in ("/editor/", "/editor/?q=India+oil", "/editor/?status=draft",
                 "/editor/?q=demo-001", f"/editor/articles/{page}", f"/editor/articles/{page}?k=6",
                 "/editor/drafts", "/editor/policy", "/editor/audit"):
        assert ed.get(path).status_code == 200, path
    assert ed.get("/editor/articles/999999").status_code == 404


def test_search_finds_by_title_words_url_and_id(ed: FlaskClient) -> None:
    text = ed.get("/editor/?q=russia+india").get_data(as_text=True)
    assert "Russia and India" in text
    url = "https://meridian.example/2025/12/russia-and-india-sign-oil-defence-and-payments-package-at-delhi-summit?utm_source=x"
    assert "Russia and India" in ed.get("/editor/", query_string={"q": url}).get_data(as_text=True)
    assert "Russia and India" in ed.get("/editor/?q=demo-001").get_data(as_text=True)


def test_article_view_explains_every_item(editor_app: Flask, ed: FlaskClient) -> None:
    text = ed.get(f"/editor/articles/{article_id(editor_app, 'demo-001')}").get_data(as_text=True)
    for label in ("Meaning", "Shared words", "Shared tags", "Shared author", "Recency factor",
                  "Diversity penalty", "As readers see it", "Just below the cut", "Promote",
                  "candidates dropped"):
        assert label in text, label
    assert "<details" in text


def test_article_text_is_escaped_on_every_page(editor_app: Flask, ed: FlaskClient) -> None:
    with session_of(editor_app) as session:
        for external_id in ("demo-001", "demo-002"):
            article = session.scalars(select(Article).where(Article.external_id == external_id)).one()
            article.title, article.dek, article.section = XSS, XSS, XSS
        session.commit()
    page, other = article_id(editor_app, "demo-001"), article_id(editor_app, "demo-002")
    post(ed, f"/editor/articles/{page}/block", target=str(other), reason=XSS)
    post(ed, f"/editor/articles/{other}/pin", target=str(page), position="1", reason=XSS)
    responses = [ed.get(p) for p in ("/editor/?q=script", "/editor/", f"/editor/articles/{page}",
                                     f"/editor/articles/{other}", "/editor/audit")]
    responses.append(post(ed, "/editor/drafts", title=XSS, body=XSS + " Russia India oil",
                          tags=XSS, section=XSS))
    responses.append(post(ed, "/editor/policy", action="preview", article=str(other)))
    for response in responses:
        text = response.get_data(as_text=True)
        assert response.status_code == 200, text[:500]
        assert XSS not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# -- curation through the pages: immediate effect on the public API --------------------------------

def test_pin_block_and_remove_through_the_pages(editor_app: Flask, ed: FlaskClient) -> None:
    public = editor_app.test_client()
    page = article_id(editor_app, "demo-001")
    before, etag = _api_ids(public)
    response = post(ed, f"/editor/articles/{page}/pin", target="demo-050", position="1",
                    reason="our pick")
    assert response.status_code == 303
    pinned, pinned_etag = _api_ids(public)
    assert pinned[0] == "demo-050" and pinned_etag != etag
    assert public.get("/api/v1/articles/demo-001/related",
                      headers={"If-None-Match": etag}).status_code == 200
    html = public.get("/widget/related.html", query_string={
        "url": editor_app.extensions["related"].session_factory().get(Article, page).url})
    assert html.get_data(as_text=True).index("demo-050") >= 0

    blocked_target = before[0]
    post(ed, f"/editor/articles/{page}/block", target=blocked_target)
    after_block, _ = _api_ids(public)
    assert blocked_target not in after_block and after_block[0] == "demo-050"

    view = ed.get(f"/editor/articles/{page}").get_data(as_text=True)
    assert "our pick" in view and "pinned" in view
    with session_of(editor_app) as session:
        rules = session.scalars(select(Curation).order_by(Curation.id)).all()
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert [r.kind for r in rules] == ["pin", "block"] and actions == ["pin", "block"]
        assert {e.actor for e in session.scalars(select(AuditEntry))} == {EDITOR}
    for rule in rules:
        post(ed, f"/editor/rules/{rule.id}/remove", back=str(page))
    assert _api_ids(public)[0] == before


def test_block_everywhere_through_the_page(editor_app: Flask, ed: FlaskClient) -> None:
    public = editor_app.test_client()
    target = _api_ids(public)[0][0]
    post(ed, f"/editor/articles/{article_id(editor_app, target)}/block-everywhere",
         reason="legal takedown")
    assert target not in _api_ids(public)[0]
    audit = ed.get("/editor/audit").get_data(as_text=True)
    assert "block-site-wide" in audit and "legal takedown" in audit


def test_a_site_wide_block_needs_a_reason_on_the_server_too(editor_app: Flask,
                                                            ed: FlaskClient) -> None:
    """Issue #17 item 10: the form marks the reason required; a POST without one (no browser
    validation, a script) must be refused the same way, not stored."""
    page = ed.get(f"/editor/articles/{article_id(editor_app, 'demo-002')}").get_data(as_text=True)
    form = page.split("block-everywhere", 1)[1].split("</form>", 1)[0]
    assert re.search(r'name="reason"[^>]*required', form)
    target = article_id(editor_app, "demo-002")
    for reason in ("", "   "):
        response = post(ed, f"/editor/articles/{target}/block-everywhere", reason=reason)
        followed = ed.get(response.headers["Location"]).get_data(as_text=True)
        assert "Nothing changed: a site-wide block needs a reason" in followed
    with session_of(editor_app) as session:
        assert session.query(Curation).count() == 0


def test_expiry_from_the_form_is_utc_and_must_be_future(editor_app: Flask, ed: FlaskClient) -> None:
    page = article_id(editor_app, "demo-001")
    soon = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    post(ed, f"/editor/articles/{page}/pin", target="demo-050", position="2", expires_at=soon)
    with session_of(editor_app) as session:
        rule = session.scalars(select(Curation)).one()
        assert rule.expires_at is not None and rule.expires_at.strftime("%Y-%m-%dT%H:%M") == soon
    assert _api_ids(editor_app.test_client())[0][1] == "demo-050"
    past = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = post(ed, f"/editor/articles/{page}/pin", target="demo-051", position="1",
                    expires_at=past)
    assert response.status_code == 303
    followed = ed.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing changed: expiry must be in the future" in followed
    for bad in ({"expires_at": "tomorrow"}, {"position": "99"}, {"target": "no-such-article"}):
        fields = {"target": "demo-051", "position": "1", **bad}
        post(ed, f"/editor/articles/{page}/pin", **fields)
    with session_of(editor_app) as session:
        assert session.query(Curation).count() == 1


# -- previews ---------------------------------------------------------------------------------------

def test_draft_preview_page_stores_nothing(editor_app: Flask, ed: FlaskClient) -> None:
    with session_of(editor_app) as session:
        count = session.query(Article).count()
    response = post(ed, "/editor/drafts", title="Russia and India agree oil payments",
                    body="Delhi summit oil defence payments rupee rouble", tags="india, russia",
                    content_type="news", section="Asia")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "It would get" in text and "Meaning" in text
    assert "Russia and India" in text
    assert post(ed, "/editor/drafts", title="", body="").status_code == 422
    with session_of(editor_app) as session:
        assert session.query(Article).count() == count


def test_the_draft_preview_shows_as_many_items_as_readers_get(editor_app: Flask,
                                                              ed: FlaskClient) -> None:
    """Issue #17 item 10: the page showed 6 items while readers get 3 by default."""
    readers = len(editor_app.test_client().get("/api/v1/articles/demo-001/related")
                  .get_json()["items"])
    text = post(ed, "/editor/drafts", title="Russia and India agree oil payments",
                body="Delhi summit oil defence payments rupee rouble", tags="india, russia",
                content_type="news", section="Asia").get_data(as_text=True)
    shown = text.split("It would get", 1)[1].split("Just below the cut", 1)[0]
    assert readers == 3 and shown.count("<tr class=") == readers


def _preview(client: FlaskClient, body: object, **headers: str) -> object:
    return client.post("/api/v1/preview", json=body, headers=headers)


def test_preview_api_needs_a_key_or_an_editor_session(editor_app: Flask, ed: FlaskClient,
                                                      anon: FlaskClient) -> None:
    draft = {"title": "Russia and India agree oil payments", "tags": ["india"], "k": 4}
    for headers in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic eDp5"}):
        response = anon.post("/api/v1/preview", json=draft, headers=headers)
        assert response.status_code == 401 and "WWW-Authenticate" in response.headers
        assert response.get_json()["error"]["code"] == 401
    ok = anon.post("/api/v1/preview", json=draft, headers={"Authorization": f"Bearer {API_KEY}"})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    body = ok.get_json()
    assert len(body["items"]) == 4 and body["items"][0]["position"] == 1
    assert {"semantic", "lexical", "tags", "recency"} <= set(body["items"][0]["signals"])
    assert ok.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in ok.headers
    # an editor's session works only with its CSRF token in a header
    assert ed.post("/api/v1/preview", json=draft).status_code == 401
    assert ed.post("/api/v1/preview", json=draft,
                   headers={"X-CSRF-Token": csrf(ed)}).status_code == 200


@pytest.mark.parametrize(("body", "status"), [
    ({}, 422), ({"title": ""}, 422), ({"title": 5}, 422), ({"title": "x", "k": 0}, 422),
    ({"title": "x", "tags": "a;b", "bogus": 1}, 422), ([1, 2], 422), ("text", 422),
    ({"body": "<p></p>"}, 422), ({"title": "x" * 2000}, 422)])
def test_preview_api_rejects_invalid_drafts(anon: FlaskClient, body: object, status: int) -> None:
    response = anon.post("/api/v1/preview", json=body,
                         headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == status


def test_preview_api_wants_json(anon: FlaskClient) -> None:
    response = anon.post("/api/v1/preview", data="title=x",
                         headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 415


# -- the ranking policy -----------------------------------------------------------------------------

def test_policy_preview_shows_both_lists_and_saves_nothing(editor_app: Flask,
                                                           ed: FlaskClient) -> None:
    response = post(ed, "/editor/policy", action="preview", article="demo-001",
                    semantic_weight="1", lexical_weight="0", recency_weight="0")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Current policy" in text and "Proposed policy" in text
    with session_of(editor_app) as session:
        assert session.query(SavedPolicy).count() == 0
    assert post(ed, "/editor/policy", action="preview", article="demo-001",
                semantic_weight="-1").status_code == 422
    assert post(ed, "/editor/policy", action="preview", article="").status_code == 422


def test_saved_policy_is_used_by_the_next_build(editor_app: Flask, ed: FlaskClient) -> None:
    response = post(ed, "/editor/policy", action="save", semantic_weight="0.55",
                    half_life_news="20", note="more meaning")
    assert response.status_code == 303
    with session_of(editor_app) as session:
        saved = session.scalars(select(SavedPolicy)).one()
        assert saved.created_by == EDITOR and saved.note == "more meaning"
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.action == "policy-save" and entry.actor == EDITOR
    assert "0.55" in ed.get("/editor/policy").get_data(as_text=True)  # prefilled from it
    recommender = editor_app.extensions["related"].recommender
    recommender._encoder = FakeEncoder()
    full_build(recommender)
    build = recommender.builds.get()
    assert build is not None
    assert build.meta["policy"]["semantic_weight"] == 0.55
    assert build.meta["policy"]["half_life_days"]["news"] == 20.0


def test_a_saved_policy_that_no_longer_validates_is_shown_to_editors(
        editor_app: Flask, ed: FlaskClient) -> None:
    page_id = article_id(editor_app, "demo-001")
    for path in ("/editor/policy", f"/editor/articles/{page_id}"):
        assert "data-policy-problem" not in ed.get(path).get_data(as_text=True)
    with session_of(editor_app) as session:
        broken = SavedPolicy(policy={"retired_weight": 1}, created_by=EDITOR)
        session.add(broken)
        session.commit()
        broken_id = broken.id
    for path in ("/editor/policy", f"/editor/articles/{page_id}"):
        response = ed.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 200  # the pages still rank, with the settings' policy
        banner = re.search(r'<p class="ed-flash ed-flash-error" role="alert" '
                           r'data-policy-problem>([^<]*)</p>', text)
        assert banner, text
        assert f"#{broken_id} no longer validates" in banner.group(1)
        assert "retired_weight" in banner.group(1)
    # Saving a valid policy (the form is prefilled with the settings') clears it.
    assert post(ed, "/editor/policy", action="save", note="fix").status_code == 303
    assert "data-policy-problem" not in ed.get("/editor/policy").get_data(as_text=True)


def test_preview_responses_match_the_openapi_document(editor_app: Flask, anon: FlaskClient) -> None:
    from tests.helpers.openapi import schema_validator
    from web.openapi import openapi_document

    document = openapi_document(editor_app.extensions["related"].settings)
    operation = document["paths"]["/api/v1/preview"]["post"]
    auth = {"Authorization": f"Bearer {API_KEY}"}
    for body, headers, status in (({"title": "India oil", "k": 2}, auth, 200),
                                  ({"title": ""}, auth, 422), ({"title": "x"}, {}, 401)):
        response = anon.post("/api/v1/preview", json=body, headers=headers)
        assert response.status_code == status
        schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
        schema_validator(document, schema).validate(response.get_json())


@pytest.mark.parametrize(("field", "value"), [("title", "Summit \ud800"), ("body", "x\udfff"),
                                              ("tags", ["india", "\ud83d"]), ("dek", "a\x00b")])
def test_preview_api_refuses_text_that_is_not_text(anon: FlaskClient, field: str,
                                                   value: object) -> None:
    """A lone surrogate (or NUL) anywhere: 422 naming the field, never a 500."""
    draft = {"title": "Russia and India agree oil payments", field: value}
    response = anon.post("/api/v1/preview", json=draft,
                         headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["parameter"] == field


def test_preview_api_answers_413_to_a_chunked_body_over_the_cap(anon: FlaskClient) -> None:
    response = anon.post("/api/v1/preview", input_stream=io.BytesIO(b" " * (2 * 1024 * 1024 + 1)),
                         headers={"Authorization": f"Bearer {API_KEY}",
                                  "Content-Type": "application/json",
                                  "Transfer-Encoding": "chunked"},
                         environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413 and response.get_json()["error"]["code"] == 413
