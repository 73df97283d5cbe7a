"""Finding articles for editors: by title words, URL, CMS id or internal id, in any status.

Readers only ever reach live articles (``readers.find_article``); editors must also find drafts,
scheduled and withdrawn ones, so this lookup ignores status (``live.status_of`` reports it).
"""

from __future__ import annotations

import re

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from recommender.catalog.urls import InvalidURL, normalize_url
from recommender.storage.schema import Article

_WORDS = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def resolve(session: Session, ref: str) -> Article | None:
    """One article by exact reference: internal id, CMS id or URL (normalised)."""
    ref = ref.strip()
    if not ref or len(ref) > 2048:
        return None
    if ref.isdigit() and len(ref) < 10:
        found = session.get(Article, int(ref))
        if found is not None:
            return found
    by_external = session.scalars(select(Article).where(Article.external_id == ref[:255])).first()
    if by_external is not None:
        return by_external
    if "://" in ref:
        try:
            url = normalize_url(ref)
        except InvalidURL:
            return None
        return session.scalars(select(Article).where(Article.url == url)).first()
    return None


def search(session: Session, query: str, limit: int = 50) -> list[Article]:
    """An exact reference first, then articles whose title contains every word, newest first."""
    exact = resolve(session, query)
    words = _WORDS.findall(query.lower())[:MAX_WORDS]
    found: list[Article] = [exact] if exact is not None else []
    if words:
        conditions = [Article.title.ilike(f"%{_escape_like(w)}%", escape="\\") for w in words]
        rows = session.scalars(select(Article).where(and_(*conditions))
                               .order_by(Article.published_at.desc().nulls_last(), Article.id)
                               .limit(limit))
        found.extend(a for a in rows if exact is None or a.id != exact.id)
    return found[:limit]


def recent(session: Session, limit: int = 50, status: str | None = None) -> list[Article]:
    """The most recently changed articles in any status (or one), for the editors' front page."""
    query = select(Article)
    if status:
        query = query.where(Article.status == status)
    return list(session.scalars(query.order_by(Article.modified.desc(), Article.id.desc())
                                .limit(limit)))
