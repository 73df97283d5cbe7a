"""The editors' experiments and performance pages: signed in only, forms with CSRF, escaped
labels in the SVG charts, an experiment started, analysed and ended with promotion."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from recommender.feedback.events import parse_batch, store
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.saved import save_policy
from recommender.storage.feedback_tables import Experiment
from recommender.storage.schema import Article, AuditEntry
from tests.helpers.editing import add_editor, post, session_of, sign_in
from tests.helpers.feedback import batch, click, impression, token


def _signed_in(app: Flask, client: FlaskClient) -> None:
    add_editor(app)
    assert sign_in(client).status_code in (302, 303)


def test_pages_need_an_editor(client: FlaskClient) -> None:
    for path in ("/editor/performance", "/editor/experiments"):
        assert client.get(path).status_code in (302, 303)


def test_performance_page_draws_escaped_charts(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    with session_of(app) as session:
        session.execute(update(Article).where(Article.external_id == "demo-001")
                        .values(title="<script>alert(1)</script> & co"))
        session.commit()
        view = token()
        store(session, parse_batch(batch(impression("demo-001", ["demo-002", "demo-003"], view),
                                         click("demo-001", "demo-003", 2, view))))
        session.commit()
    page = client.get("/editor/performance?days=7")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<svg") == 5
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "CTR by position" in html and "Position 2" in html and "1 clicks" in html
    assert 'id="gini"' in html and 'id="top-share"' in html


def test_start_analyse_and_end_an_experiment(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    with session_of(app) as session:
        a = save_policy(session, RankingPolicy(), actor="ada", note="current").id
        b = save_policy(session, replace(RankingPolicy(), mmr_lambda=0.7), actor="ada",
                        note="more variety").id
    page = client.get("/editor/experiments").get_data(as_text=True)
    assert "Start an experiment" in page and "more variety" in page
    bad = post(client, "/editor/experiments", name="x", policy_a=str(a), policy_b=str(a),
               split="50")
    assert bad.status_code == 422 and "two different" in bad.get_data(as_text=True)
    started = post(client, "/editor/experiments", name="variety", policy_a=str(a),
                   policy_b=str(b), split="40")
    assert started.status_code == 303
    running = client.get("/editor/experiments").get_data(as_text=True)
    assert "Running: variety" in running and "40% of pages on B" in running
    assert "Not enough pages" in running
    with session_of(app) as session:
        experiment = session.scalars(select(Experiment)).one()
        ended = post(client, f"/editor/experiments/{experiment.id}/end", promote="yes")
        assert ended.status_code == 303
        session.expire_all()
        assert session.get(Experiment, experiment.id).status == "ended"  # type: ignore[union-attr]
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"experiment-start", "experiment-end"} <= actions
    after = client.get("/editor/experiments").get_data(as_text=True)
    assert "variety" in after and "Start an experiment" in after
    assert post(client, "/editor/experiments/999/end").status_code == 404
