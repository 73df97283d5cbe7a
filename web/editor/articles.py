"""Finding an article, its page (the list readers see and why), and the curation actions on it.

Every action redirects back to the article page (POST-redirect-GET), where the new rule, the
list as readers now see it and the audit entry are shown; a bad field is a flashed message.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from recommender.catalog import curation, finding
from recommender.catalog.live import status_of
from recommender.live.recommender import Recommender
from recommender.storage.schema import Article
from web import db
from web.editor import forms
from web.editor.guard import bp, current_editor
from web.editor.present import present

DEFAULT_K = 3
STATUSES = ("published", "draft", "scheduled", "unpublished")


def _article(article_id: int) -> Article:
    article = db.get_session().get(Article, article_id)
    if article is None:
        abort(404, f"There is no article with id {article_id}.")
    return article


def _k() -> int:
    maximum = db.resources().settings.related_k
    raw = request.args.get("k", "")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= maximum else min(DEFAULT_K, maximum)


def _back(article_id: int) -> Response:
    return redirect(url_for("editor.article", article_id=article_id) + "#curation", 303)  # type: ignore[return-value]


@bp.get("/")
def index() -> str:
    """Search by title words, URL or id; without a query, the most recently changed articles."""
    session = db.get_session()
    query = request.args.get("q", "").strip()[:500]
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    results = finding.search(session, query) if query else finding.recent(session, status=status)
    if query and status:
        results = [a for a in results if status_of(a) == status]
    return render_template("editor/index.html", query=query, status=status, statuses=STATUSES,
                           results=results, status_of=status_of)


@bp.get("/articles/<int:article_id>")
def article(article_id: int) -> str:
    """The list readers see, the live ranking with every signal, the rules and the audit."""
    session = db.get_session()
    page = _article(article_id)
    rec: Recommender = db.resources().recommender
    k = _k()
    readers = rec.related(session, page, k)
    explained = present(session, rec.explain(session, page, k))
    rules = curation.rules_for(session, page.id)
    targets = [r.curation.target_id for r in rules]
    rule_titles = {row.id: row.title for row in session.execute(
        select(Article.id, Article.title).where(Article.id.in_(targets)))} if targets else {}
    return render_template("editor/article.html", article=page, k=k, readers=readers,
                           explained=explained, status=status_of(page),
                           live=page.is_live(), rules=rules, rule_titles=rule_titles,
                           audit=curation.audit_log(session, article_id=page.id, limit=30),
                           max_k=db.resources().settings.related_k)


def _target(field: str = "target") -> Article:
    ref = forms.text(field, 2048)
    found = finding.resolve(db.get_session(), ref) if ref else None
    if found is None:
        raise forms.FormError(f"no article matches {ref!r}: give its id, CMS id or URL"
                              if ref else "say which article (id, CMS id or URL)")
    return found


@bp.post("/articles/<int:article_id>/pin")
def pin(article_id: int) -> Response:
    """Pin an item at a position in this article's list."""
    page = _article(article_id)
    try:
        target = _target()
        position = forms.integer("position", 1, db.resources().settings.related_k)
        curation.pin(db.get_session(), actor=current_editor() or "", article_id=page.id,
                     target_id=target.id, position=position, expires_at=forms.expiry(),
                     reason=forms.text("reason"),
                     max_position=db.resources().settings.related_k)
        flash(f"Pinned “{target.title}” at position {position}.", "ok")
    except (forms.FormError, curation.CurationError) as exc:
        flash(f"Nothing changed: {exc}.", "error")
    return _back(page.id)


@bp.post("/articles/<int:article_id>/block")
def block(article_id: int) -> Response:
    """Keep an item out of this article's list."""
    page = _article(article_id)
    try:
        target = _target()
        curation.block(db.get_session(), actor=current_editor() or "", article_id=page.id,
                       target_id=target.id, expires_at=forms.expiry(),
                       reason=forms.text("reason"))
        flash(f"Blocked “{target.title}” from this article's list.", "ok")
    except (forms.FormError, curation.CurationError) as exc:
        flash(f"Nothing changed: {exc}.", "error")
    return _back(page.id)


@bp.post("/articles/<int:article_id>/block-everywhere")
def block_everywhere(article_id: int) -> Response:
    """Keep this article out of every list (a correction, a legal takedown)."""
    page = _article(article_id)
    try:
        curation.block_everywhere(db.get_session(), actor=current_editor() or "",
                                  target_id=page.id, expires_at=forms.expiry(),
                                  reason=forms.text("reason"))
        flash("This article is now blocked from every related list.", "ok")
    except (forms.FormError, curation.CurationError) as exc:
        flash(f"Nothing changed: {exc}.", "error")
    return _back(page.id)


@bp.post("/rules/<int:rule_id>/remove")
def remove_rule(rule_id: int) -> Response:
    """Delete a pin or block; the audit log keeps what it was."""
    back = forms.text("back", 20)
    try:
        curation.remove(db.get_session(), actor=current_editor() or "", rule_id=rule_id,
                        reason=forms.text("reason"))
        flash("Rule removed.", "ok")
    except curation.CurationError as exc:
        flash(f"Nothing changed: {exc}.", "error")
    if back.isdigit():
        return _back(int(back))
    return redirect(url_for("editor.audit"), 303)  # type: ignore[return-value]
