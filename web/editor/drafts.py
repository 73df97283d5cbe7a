"""Draft preview: the list an unpublished text would get once published, with the same
explanations as a stored article's. Nothing is stored; the form is posted back to itself."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from recommender.live.drafts import CONTENT_TYPES, DraftError, parse_draft
from recommender.storage.schema import Article
from web import db
from web.editor.guard import bp
from web.editor.present import present
from web.params import DEFAULT_K


def _sections() -> list[str]:
    rows = db.get_session().scalars(select(Article.section).where(Article.section != "")
                                    .distinct().order_by(Article.section))
    return list(rows)


@bp.route("/drafts", methods=["GET", "POST"])
def draft() -> tuple[str, int]:
    """The draft form and, once posted, its would-be list."""
    form = {name: request.form.get(name, "") for name in
            ("title", "dek", "body", "tags", "section", "content_type")}
    explained, error, status = None, "", 200
    if request.method == "POST":
        try:
            parsed = parse_draft({**form, "content_type": form["content_type"] or "news"})
            session = db.get_session()
            # as many items as readers get by default (the API's and the widget's k), not more
            k = min(DEFAULT_K, db.resources().settings.related_k)
            explained = present(session, db.resources().recommender.preview(session, parsed, k))
        except DraftError as exc:
            error, status = exc.message, 422
        except ValueError as exc:  # e.g. only markup, no text, once HTML is stripped
            error, status = str(exc), 422
    return render_template("editor/draft.html", form=form, explained=explained, error=error,
                           content_types=CONTENT_TYPES, sections=_sections()), status
