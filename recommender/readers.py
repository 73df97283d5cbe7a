"""The reader's path: one page's precomputed list, filtered live, with no model and no FAISS.

The stored list may be hours old, so liveness and curation are re-checked here on every read: an
article unpublished or blocked a second ago never reaches a reader, and a new pin shows at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, select, true
from sqlalchemy.orm import Session, aliased

from recommender.catalog.items import active_curations
from recommender.catalog.live import live_clause
from recommender.catalog.text import read_label, read_minutes
from recommender.catalog.urls import InvalidURL, normalize_url
from recommender.storage.schema import Article, RelatedItem, utcnow


class ArticleNotFound(LookupError):
    """No live article has this id or URL."""


@dataclass(frozen=True, slots=True)
class Teaser:
    """One related item as the widget shows it."""

    id: str
    url: str
    title: str
    dek: str
    image: str | None
    section: str
    authors: tuple[str, ...]
    published_at: datetime | None
    read_minutes: int
    read_label: str
    position: int
    score: float
    fallback: bool
    pinned: bool


@dataclass(frozen=True, slots=True)
class RelatedList:
    article_id: str
    article_url: str
    article_title: str
    build_id: str
    items: tuple[Teaser, ...]

    @property
    def etag(self) -> str:
        """Changes whenever what a reader would see changes (build, curation, liveness)."""
        digest = hashlib.sha256(self.build_id.encode())
        for item in self.items:
            digest.update(f"|{item.id}:{item.position}:{item.title}:{item.dek}".encode())
        return digest.hexdigest()[:32]


def find_article(session: Session, *, external_id: str | None = None, url: str | None = None,
                 live_only: bool = True) -> Article:
    """The article by CMS id or (normalised) URL; raises ArticleNotFound."""
    query = select(Article)
    if external_id is not None:
        query = query.where(Article.external_id == external_id)
    elif url is not None:
        try:
            query = query.where(Article.url == normalize_url(url))
        except InvalidURL:  # e.g. a normalised URL normalised again grew past the length limit
            raise ArticleNotFound(f"no published article with url {url!r}") from None
    else:
        raise ValueError("pass external_id or url")
    if live_only:
        query = query.where(live_clause(utcnow()))
    article = session.scalars(query).first()
    if article is None:
        raise ArticleNotFound(f"no published article with {'id' if external_id else 'url'} "
                              f"{external_id or url!r}")
    return article


def _teaser(target: Article, position: int, score: float, fallback: bool, pinned: bool) -> Teaser:
    minutes = read_minutes(target.word_count)
    return Teaser(id=target.external_id, url=target.canonical_url or target.url,  # as published
                  title=target.title, dek=target.dek,
                  image=target.image, section=target.section, authors=tuple(target.authors or ()),
                  published_at=target.published_at, read_minutes=minutes,
                  read_label=read_label(minutes), position=position, score=round(score, 4),
                  fallback=fallback, pinned=pinned)


def same_language_clause(page_language: str, language: SQLColumnExpression[str]
                         ) -> ColumnElement[bool]:
    """``formulas.other_language`` negated, in SQL: a page of unknown language ("") accepts any
    language, any other page only its own (an article of unknown language included)."""
    return true() if not page_language else language == page_language


def related_for(session: Session, article: Article, k: int, *,
                same_language: bool = True) -> RelatedList:
    """The first ``k`` live, unblocked items of the stored list, with current pins applied.

    The language rule is re-applied too (``same_language``, the policy's): a list stored before
    an article's language was corrected, or a pin of a translation, never shows it to readers."""
    now = utcnow()
    rules = active_curations(session, now, article.id)
    blocked = rules.blocked_for(article.id)
    pins = {target: pos for target, pos in rules.pins.get(article.id, []) if target not in blocked}
    target = aliased(Article)
    language = (same_language_clause(article.language, target.language) if same_language
                else true())
    fetch = k + len(blocked) + len(pins) + 5
    rows = session.execute(
        select(RelatedItem, target)
        .join(target, target.id == RelatedItem.target_id)
        .where(RelatedItem.article_id == article.id, live_clause(now, target), language)
        .order_by(RelatedItem.position)
        .limit(fetch)
    ).all()
    build_id = rows[0][0].build_id if rows else ""
    ranked = [(item, art) for item, art in rows
              if art.id not in blocked and art.id not in pins and art.id != article.id]
    pinned_articles = {a.id: a for a in session.scalars(
        select(target).where(target.id.in_(list(pins)), live_clause(now, target), language))
    } if pins else {}
    ordered: list[tuple[Article, float, bool, bool]] = [
        (art, item.score, item.fallback, False) for item, art in ranked]
    for target_id, position in sorted(pins.items(), key=lambda p: p[1]):
        if target_id in pinned_articles and target_id != article.id:
            ordered.insert(min(position - 1, len(ordered)),
                           (pinned_articles[target_id], 0.0, False, True))
    teasers = tuple(_teaser(art, i, score, fallback, pinned)
                    for i, (art, score, fallback, pinned) in enumerate(ordered[:k], start=1))
    return RelatedList(article_id=article.external_id,
                       article_url=article.canonical_url or article.url,
                       article_title=article.title, build_id=build_id, items=teasers)

