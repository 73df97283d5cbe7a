"""The demo site of "The Meridian Review": a front page and article pages that embed the widget.

It shows the widget the way a publisher's site uses it (a script tag and a div, the URL taken from
the page's canonical link), so the README's demo exercises the real embed path end to end.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from sqlalchemy import select

from recommender.catalog.live import live_clause
from recommender.catalog.text import read_label, read_minutes
from recommender.readers import ArticleNotFound, find_article
from recommender.storage.schema import Article, utcnow
from web import db, params
from web.errors import ApiError

bp = Blueprint("demo", __name__)
FRONT_PAGE_SIZE = 24


def _date(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment else ""


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n\n") if p.strip()]


@bp.get("/")
def front() -> str:
    """The front page: the most recent live articles."""
    session = db.get_session()
    articles = session.scalars(select(Article).where(live_clause(utcnow()))
                               .order_by(Article.published_at.desc()).limit(FRONT_PAGE_SIZE)).all()
    return render_template("demo/front.html", articles=articles, date=_date,
                           read=lambda a: read_label(read_minutes(a.word_count)))


@bp.get("/demo/articles/<path:article_id>")
def article(article_id: str) -> str:
    """One article page, with the related-reading widget at its foot."""
    session = db.get_session()
    try:
        page = find_article(session, external_id=params.article_id(article_id))
    except ArticleNotFound:
        raise ApiError(404, "There is no published article at this address.") from None
    return render_template("demo/article.html", article=page, date=_date,
                           paragraphs=_paragraphs(page.body),
                           read=read_label(read_minutes(page.word_count)))
