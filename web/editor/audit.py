"""The site-wide audit log: every curation and policy change, newest first, paged by id."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from recommender.catalog import curation
from recommender.storage.schema import Article
from web import db
from web.editor.guard import bp

PAGE_SIZE = 100


@bp.get("/audit")
def audit() -> str:
    """Who changed what, when and why."""
    session = db.get_session()
    raw = request.args.get("before", "")
    before = int(raw) if raw.isdigit() and len(raw) < 12 else None
    entries = curation.audit_log(session, limit=PAGE_SIZE, before_id=before)
    ids = {i for e in entries for i in (e.article_id, e.target_id) if i is not None}
    titles = {row.id: row.title for row in session.execute(
        select(Article.id, Article.title).where(Article.id.in_(ids)))} if ids else {}
    older = entries[-1].id if len(entries) == PAGE_SIZE else None
    return render_template("editor/audit.html", entries=entries, titles=titles, older=older)
