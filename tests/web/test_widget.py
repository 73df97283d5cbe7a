"""The widget: the HTML fragment, the embed script and the demo magazine's pages."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recommender.storage.schema import Article, RelatedItem
from tests.helpers.demo import WIDGET_ORIGIN
from web import create_app
from web.widget import safe_href

PAGE = "https://meridian.example/2025/12/russia-and-india-sign-oil-defence-and-payments-package-at-delhi-summit"
EVIL_TITLE = "<script>alert('title')</script> & friends"
EVIL_DEK = '"><img src=x onerror=alert(1)>'


def _session(app: Flask) -> Session:
    return app.extensions["related"].session_factory()  # type: ignore[no-any-return]


def _fragment(client: FlaskClient, url: str = PAGE, **query: str) -> TestResponse:
    return client.get("/widget/related.html", query_string={"url": url, **query})


def _article(session: Session, external_id: str) -> Article:
    return session.scalars(select(Article).where(Article.external_id == external_id)).one()


def test_fragment_shows_heading_and_teasers(client: FlaskClient) -> None:
    response = _fragment(client)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<h2 class="rr-heading">Related reading</h2>' in html
    assert html.count('class="rr-item"') == 3
    links = re.findall(r'<a class="rr-title" href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert len(links) == 3 and all(href.startswith("https://meridian.example/") for href, _ in links)
    assert len(re.findall(r"○</span> \d+ mins? read", html)) == 3
    assert html.count('class="rr-dek"') == 3
    assert "<script" not in html  # the fragment needs no JavaScript
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])


def test_fragment_k_and_304(client: FlaskClient) -> None:
    one = _fragment(client, k="1")
    assert one.get_data(as_text=True).count('class="rr-item"') == 1
    etag = _fragment(client).headers["ETag"]
    assert etag != one.headers["ETag"]
    again = client.get("/widget/related.html", query_string={"url": PAGE},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    json_etag = client.get("/api/v1/articles/demo-001/related").headers["ETag"]
    assert json_etag != etag  # one ETag per representation


def test_heading_comes_from_settings(demo_settings: Any) -> None:
    app = create_app(replace(demo_settings, widget_heading="More from <The Review>"))
    html = _fragment(app.test_client()).get_data(as_text=True)
    assert "More from &lt;The Review&gt;</h2>" in html
    app.extensions["related"].engine.dispose()


def test_no_items_means_an_empty_fragment_without_heading(app: Flask, client: FlaskClient) -> None:
    with _session(app) as session:
        page = _article(session, "demo-001")
        session.execute(delete(RelatedItem).where(RelatedItem.article_id == page.id))
        session.commit()
    response = _fragment(client)
    assert response.status_code == 200
    assert response.data == b""
    assert "ETag" in response.headers


def test_everything_rendered_is_escaped(app: Flask, client: FlaskClient) -> None:
    target = client.get("/api/v1/articles/demo-001/related").get_json()["items"][0]["id"]
    with _session(app) as session:
        article = _article(session, target)
        article.title, article.dek = EVIL_TITLE, EVIL_DEK
        session.commit()
    html = _fragment(client).get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; &amp; friends" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "<img" not in html
    api = client.get("/api/v1/articles/demo-001/related").get_json()
    assert api["items"][0]["title"] == EVIL_TITLE  # JSON carries the text as it is
    page = client.get(f"/demo/articles/{target}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_only_http_links_are_rendered() -> None:
    assert safe_href("https://meridian.example/a") == "https://meridian.example/a"
    assert safe_href("javascript:alert(1)") == "#"
    assert safe_href("data:text/html,x") == "#"


def test_fragment_errors_are_empty_with_a_status(client: FlaskClient) -> None:
    unknown = _fragment(client, "https://meridian.example/none")
    assert unknown.status_code == 404 and unknown.data == b""
    bad_k = _fragment(client, k="0")
    assert bad_k.status_code == 400 and bad_k.data == b""
    no_url = client.get("/widget/related.html")
    assert no_url.status_code == 400 and no_url.data == b""
    assert bad_k.headers["Cache-Control"] == "no-store"


def test_fragment_is_fetchable_from_allowed_origins(client: FlaskClient) -> None:
    allowed = client.get("/widget/related.html", query_string={"url": PAGE},
                         headers={"Origin": WIDGET_ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    denied = client.get("/widget/related.html", query_string={"url": PAGE},
                        headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_script_is_served_cacheable(client: FlaskClient) -> None:
    response = client.get("/widget/v1.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    script = response.get_data(as_text=True)
    assert "data-related-reading" in script and "/widget/related.html" in script
    assert "console.error" not in script and "document.write" not in script
    assert response.headers["Cache-Control"].startswith("public")
    again = client.get("/widget/v1.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


# -- the demo magazine ------------------------------------------------------------------------------

def test_front_page_lists_live_articles(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The Meridian Review" in html
    assert html.count('class="river-item"') == 24
    assert "/demo/articles/demo-086" not in html and "/demo/articles/demo-084" not in html
    assert re.search(r"○ \d+ mins? read", html)


def test_article_page_embeds_the_widget(client: FlaskClient) -> None:
    response = client.get("/demo/articles/demo-001")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<link rel="canonical" href="{PAGE}">' in html
    assert "<h1>Russia and India Sign Oil" in html
    assert html.count("<p>") >= 3  # body paragraphs
    assert '<script src="/widget/v1.js" async></script>' in html
    assert "data-related-reading" in html


def test_missing_demo_article_is_an_html_404(client: FlaskClient) -> None:
    for path in ("/demo/articles/demo-086", "/demo/articles/none", "/no/such/page"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "<h1>404</h1>" in response.get_data(as_text=True)
