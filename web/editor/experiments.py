"""Experiments: start one between two saved ranking policies, watch each arm's CTR with its 95%
interval (page-level), end it and optionally promote the winner. Thin: the library decides."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, url_for

from recommender.feedback import experiments
from recommender.feedback.experiments import ExperimentError
from recommender.ranking import saved
from recommender.storage.feedback_tables import Experiment
from web import db
from web.editor import forms
from web.editor.guard import bp, current_editor


def _render(status: int = 200, **extra: Any) -> tuple[str, int]:
    session = db.get_session()
    current = experiments.running(session)
    analysis = experiments.analyse(session, current) if current is not None else None
    past = experiments.history(session)
    return render_template("editor/experiments.html", running=current, analysis=analysis,
                           arms=experiments.arm_names(current.name) if current else None,
                           past=past, policies=saved.history(session, 30), **extra), status


@bp.get("/experiments")
def experiments_page() -> tuple[str, int]:
    return _render()


@bp.post("/experiments")
def experiment_start() -> Response | tuple[str, int]:
    session = db.get_session()
    try:
        split = forms.number("split", 50.0) / 100.0
        started = experiments.start(session, name=forms.text("name", 40).lower(),
                                    policy_a=forms.integer("policy_a", 1, 2**31),
                                    policy_b=forms.integer("policy_b", 1, 2**31),
                                    split=split, actor=current_editor() or "")
    except (forms.FormError, ExperimentError) as exc:
        session.rollback()
        return _render(422, error=str(exc))
    flash(f"Experiment {started.name} started: the next reindex builds each arm's lists.", "ok")
    return redirect(url_for("editor.experiments_page"), 303)  # type: ignore[return-value]


@bp.post("/experiments/<int:experiment_id>/end")
def experiment_end(experiment_id: int) -> Response | tuple[str, int]:
    session = db.get_session()
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        return _render(404, error=f"no experiment #{experiment_id}")
    try:
        outcome = experiments.end(session, experiment, actor=current_editor() or "",
                                  promote=forms.text("promote") == "yes")
    except ExperimentError as exc:
        session.rollback()
        return _render(422, error=str(exc))
    promoted = outcome.get("promoted_policy")
    flash(f"Experiment {experiment.name} ended. " + (
        f"The winner was saved as policy #{promoted}; the next build uses it." if promoted
        else "No policy was promoted."), "ok")
    return redirect(url_for("editor.experiments_page"), 303)  # type: ignore[return-value]
