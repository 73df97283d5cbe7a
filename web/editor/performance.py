"""The editors' performance page: CTR by position, the articles that send and receive the most
related-reading clicks, sections, exposure concentration and coverage, as server-rendered SVG."""

from __future__ import annotations

from flask import render_template, request

from recommender.feedback.performance import report
from web import db
from web.editor import charts
from web.editor.guard import bp

PERIODS = (7, 30, 90)


@bp.get("/performance")
def performance() -> tuple[str, int]:
    days = request.args.get("days", "30")
    period = int(days) if days.isdigit() and int(days) in PERIODS else 30
    figures = report(db.get_session(), period)
    position_chart = charts.bars(
        [(f"Position {p}", c / i if i else 0.0, f"{c / i:.1%} ({c}/{i})" if i else "–")
         for p, i, c in figures.by_position], title="CTR by position")
    senders = charts.bars([(r.label, r.clicks, f"{r.clicks} clicks, {r.ctr:.1%}")
                           for r in figures.senders], title="Articles sending the most clicks")
    receivers = charts.bars([(r.label, r.clicks, f"{r.clicks} clicks of {r.views}")
                             for r in figures.receivers],
                            title="Articles receiving the most clicks")
    sections = charts.bars([(r.label, r.clicks, f"{r.clicks} clicks, {r.ctr:.1%}")
                            for r in figures.sections], title="Clicks by section")
    coverage = charts.line(figures.coverage, title="Share of live articles shown, per day")
    return render_template("editor/performance.html", figures=figures, period=period,
                           periods=PERIODS, position_chart=position_chart, senders=senders,
                           receivers=receivers, sections=sections, coverage=coverage), 200
