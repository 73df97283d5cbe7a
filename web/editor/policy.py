"""Policy preview: try other ranking weights on one article, side by side with the current ones,
before anything is saved; "Save for the next build" stores them (with an audit entry).

Only the weights editors reason about are on the form; every other field keeps its current value.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from recommender.catalog import finding
from recommender.ranking import saved
from recommender.ranking.policy import RankingPolicy
from web import db
from web.editor import forms
from web.editor.guard import bp, current_editor
from web.editor.present import present

K = 6
WEIGHTS: tuple[tuple[str, str], ...] = (
    ("semantic_weight", "Meaning (embedding) weight"),
    ("lexical_weight", "Shared words (TF-IDF) weight"),
    ("tag_weight", "Shared tags weight"),
    ("author_weight", "Shared author bonus"),
    ("recency_weight", "Recency weight (0 = off)"),
    ("mmr_lambda", "MMR λ (1 = no diversity re-ranking)"),
    ("quality_floor", "Quality floor"),
    ("default_half_life_days", "Half-life of other types (days)"),
)


def _proposed(current: RankingPolicy) -> RankingPolicy:
    """The current policy with the form's values; FormError/ValueError on a bad one."""
    values: dict[str, Any] = {name: forms.number(name, getattr(current, name))
                              for name, _ in WEIGHTS}
    values["half_life_days"] = {kind: forms.number(f"half_life_{kind}", days)
                                for kind, days in current.half_life_days.items()}
    return dataclasses.replace(current, **values)


def _render(current: RankingPolicy, shown: RankingPolicy, status: int = 200,
            **extra: Any) -> tuple[str, int]:
    session = db.get_session()
    return render_template("editor/policy.html", current=current, shown=shown, weights=WEIGHTS,
                           history=saved.history(session, 10),
                           article_ref=extra.pop("article_ref", request.values.get("article", "")),
                           note=forms.text("note") if request.method == "POST" else "",
                           **extra), status


@bp.get("/policy")
def policy() -> tuple[str, int]:
    """The form, prefilled from the current policy."""
    current = db.resources().recommender.policy(db.get_session())
    return _render(current, current)


@bp.post("/policy")
def policy_submit() -> Response | tuple[str, int]:
    """Preview (both lists side by side) or save the proposed policy."""
    session = db.get_session()
    rec = db.resources().recommender
    current = rec.policy(session)
    try:
        proposed = _proposed(current)
    except (forms.FormError, ValueError) as exc:
        return _render(current, current, 422, error=str(exc))
    if request.form.get("action") == "save":
        record = saved.save_policy(session, proposed, actor=current_editor() or "",
                                      note=forms.text("note"))
        flash(f"Saved as policy #{record.id}: the next build (and every live ranking) uses it.",
              "ok")
        return redirect(url_for("editor.policy", article=forms.text("article", 2048)), 303)  # type: ignore[return-value]
    ref = forms.text("article", 2048)
    page = finding.resolve(session, ref) if ref else None
    if page is None:
        return _render(current, proposed, 422, article_ref=ref,
                       error="Choose an article (id, CMS id or URL) to compare the lists on.")
    before = present(session, rec.explain(session, page, K, current))
    after = present(session, rec.explain(session, page, K, proposed))
    return _render(current, proposed, article_ref=ref, article=page, before=before, after=after)
