"""The reader's path: one page's precomputed list, filtered live, with no model and no FAISS.

The stored list may be hours old, so liveness and curation are re-checked here on every read: an
article unpublished or blocked a second ago never reaches a reader, and a new pin shows at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from recommender.catalog.items import active_curations
from recommender.catalog.live import live_clause
from recommender.catalog.text import read_label, read_minutes
from recommender.catalog.urls import normalize_url
from recommender.storage.schema import Article, Curation, RelatedItem, UTCDateTime, utcnow


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
        query = query.where(Article.url == normalize_url(url))
    else:
        raise ValueError("pass external_id or url")
    if live_only:
        query = query.where(live_clause(utcnow()))
    article = session.scalars(query).first()
    if article is None:
        raise ArticleNotFound(f"no published article with {'id' if external_id else 'url'} "
                              f"{external_id or url!r}")
    return article


# -- the read path in SQL: columns, not ORM objects ----------------------------------------------
# Building ORM objects (bodies included) for a page and its dozen teasers cost most of a read:
# these statements select only what a teaser shows, are built once and compiled once per dialect,
# and run on a plain connection. Two round trips: the page with the rules that apply to it, then
# its list; a third only when the page has pins.

_ARTICLES = Article.__table__
_PAGE = _ARTICLES.alias("p")
_TARGET = _ARTICLES.alias("t")
_RULE = Curation.__table__.alias("c")
_RELATED = RelatedItem.__table__.alias("r")
_NOW = bindparam("now", type_=UTCDateTime())
_TEASER_COLUMNS = (_TARGET.c.id, _TARGET.c.external_id, _TARGET.c.url, _TARGET.c.title,
                   _TARGET.c.dek, _TARGET.c.image, _TARGET.c.section, _TARGET.c.authors,
                   _TARGET.c.published_at, _TARGET.c.word_count)


def _page_statement(key: ColumnElement[str]) -> Select[Any]:
    rule_applies = (or_(_RULE.c.article_id == _PAGE.c.id, _RULE.c.article_id.is_(None))
                    & or_(_RULE.c.expires_at.is_(None), _RULE.c.expires_at > _NOW))
    return (select(_PAGE.c.id, _PAGE.c.external_id, _PAGE.c.url, _PAGE.c.title, _RULE.c.kind,
                   _RULE.c.article_id.label("rule_article"), _RULE.c.target_id, _RULE.c.position)
            .select_from(_PAGE.outerjoin(_RULE, rule_applies))
            .where(key == bindparam("key"), live_clause(_NOW, _PAGE.c))  # type: ignore[arg-type]
            .order_by(_RULE.c.id))


_PAGE_BY_ID = _page_statement(_PAGE.c.external_id)
_PAGE_BY_URL = _page_statement(_PAGE.c.url)
_LIST = (select(_RELATED.c.score, _RELATED.c.fallback, _RELATED.c.build_id, *_TEASER_COLUMNS)
         .join_from(_RELATED, _TARGET, _TARGET.c.id == _RELATED.c.target_id)
         .where(_RELATED.c.article_id == bindparam("page"),
                live_clause(_NOW, _TARGET.c))  # type: ignore[arg-type]
         .order_by(_RELATED.c.position).limit(bindparam("fetch")))
_PINNED = select(*_TEASER_COLUMNS).where(_TARGET.c.id.in_(bindparam("ids", expanding=True)),
                                         live_clause(_NOW, _TARGET.c))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class _Page:
    id: int
    external_id: str
    url: str
    title: str


def _teaser(row: Any, position: int, score: float, fallback: bool, pinned: bool) -> Teaser:
    minutes = read_minutes(row.word_count)
    return Teaser(id=row.external_id, url=row.url, title=row.title, dek=row.dek,
                  image=row.image, section=row.section, authors=tuple(row.authors or ()),
                  published_at=row.published_at, read_minutes=minutes,
                  read_label=read_label(minutes), position=position, score=round(score, 4),
                  fallback=fallback, pinned=pinned)


def lookup_related(conn: Connection, k: int, *, external_id: str | None = None,
                   url: str | None = None) -> RelatedList:
    """The list a reader sees on the live page with this CMS id or (normalised) URL.

    The readers' hot path: ``find_article`` and ``related_for`` in two statements, with the same
    rules (and the same answer, tests/test_readers.py checks both). Raises ArticleNotFound.
    """
    now = utcnow()
    if external_id is not None:
        rows = conn.execute(_PAGE_BY_ID, {"key": external_id, "now": now}).all()
    elif url is not None:
        rows = conn.execute(_PAGE_BY_URL, {"key": normalize_url(url), "now": now}).all()
    else:
        raise ValueError("pass external_id or url")
    if not rows:
        raise ArticleNotFound(f"no published article with {'id' if external_id else 'url'} "
                              f"{external_id or url!r}")
    first = rows[0]
    page = _Page(first.id, first.external_id, first.url, first.title)
    blocked: set[int] = set()
    pin_rules: list[tuple[int, int]] = []
    for rule in rows:
        if rule.kind == "block":
            blocked.add(rule.target_id)
        elif rule.kind == "pin" and rule.rule_article is not None and rule.position:
            pin_rules.append((rule.target_id, rule.position))
    return _assemble(conn, page, k, now, frozenset(blocked), pin_rules)


def related_for(session: Session, article: Article, k: int) -> RelatedList:
    """The first ``k`` live, unblocked items of the stored list, with current pins applied."""
    now = utcnow()
    rules = active_curations(session, now, article.id)
    page = _Page(article.id, article.external_id, article.url, article.title)
    return _assemble(session.connection(), page, k, now, rules.blocked_for(article.id),
                     rules.pins.get(article.id, []))


def _assemble(conn: Connection, page: _Page, k: int, now: datetime, blocked: frozenset[int],
              pin_rules: list[tuple[int, int]]) -> RelatedList:
    pins = {target: pos for target, pos in pin_rules if target not in blocked}
    fetch = k + len(blocked) + len(pins) + 5
    rows = conn.execute(_LIST, {"page": page.id, "now": now, "fetch": fetch}).all()
    build_id = rows[0].build_id if rows else ""
    ordered: list[tuple[Any, float, bool, bool]] = [
        (row, row.score, row.fallback, False) for row in rows
        if row.id not in blocked and row.id not in pins and row.id != page.id]
    if pins:
        pinned = {row.id: row for row in conn.execute(_PINNED, {"ids": list(pins), "now": now})}
        for target_id, position in sorted(pins.items(), key=lambda p: p[1]):
            if target_id in pinned and target_id != page.id:
                ordered.insert(min(position - 1, len(ordered)),
                               (pinned[target_id], 0.0, False, True))
    teasers = tuple(_teaser(row, i, score, fallback, pinned_)
                    for i, (row, score, fallback, pinned_) in enumerate(ordered[:k], start=1))
    return RelatedList(article_id=page.external_id, article_url=page.url,
                       article_title=page.title, build_id=build_id, items=teasers)
