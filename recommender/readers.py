"""The reader's path: one page's precomputed list, filtered live, with no model and no FAISS.

The stored list may be hours old, so liveness and curation are re-checked here on every read: an
article unpublished or blocked a second ago never reaches a reader, and a new pin shows at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Engine,
    Select,
    SQLColumnExpression,
    String,
    and_,
    bindparam,
    exists,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from recommender.catalog.live import live_clause
from recommender.catalog.text import read_label, read_minutes
from recommender.catalog.urls import InvalidURL, normalize_url
from recommender.storage.prepared import Prepared
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


# -- the read path in SQL: columns, not ORM objects ----------------------------------------------
# Building ORM objects (bodies included) for a page and a dozen candidates cost most of a read.
# One statement, built once and compiled once per dialect, finds the live page and joins the first
# ``k`` items of its stored list that are live, not the page itself, not blocked (for this page or
# site-wide) and not pinned to it, selecting only what a teaser shows; it also says whether the
# page has pins, and only then does a second statement fetch them.

_ARTICLES = Article.__table__
_PAGE = _ARTICLES.alias("p")
_TARGET = _ARTICLES.alias("t")
_RELATED = RelatedItem.__table__.alias("r")
_NOW = bindparam("now", type_=UTCDateTime())
_ANY_LANGUAGE = bindparam("any_language", type_=Boolean())  # the policy's language rule is off
_TEASER_COLUMNS = (_TARGET.c.id, _TARGET.c.external_id, _TARGET.c.url, _TARGET.c.canonical_url,
                   _TARGET.c.title,
                   _TARGET.c.dek, _TARGET.c.image, _TARGET.c.section, _TARGET.c.authors,
                   _TARGET.c.published_at, _TARGET.c.word_count)


def same_language_clause(page_language: str, language: SQLColumnExpression[str]
                         ) -> ColumnElement[bool]:
    """``formulas.other_language`` negated, in SQL: a page of unknown language ("") accepts any
    language, any other page only its own (an article of unknown language included)."""
    return true() if not page_language else language == page_language


def _language_ok(page_language: ColumnElement[str], language: ColumnElement[str]
                 ) -> ColumnElement[bool]:
    """``same_language_clause`` with the page's language a column or parameter, skipped when the
    policy turns the rule off (``any_language``): a list stored before an article's language was
    corrected, or a pin of a translation, never shows it to readers (#17)."""
    return or_(_ANY_LANGUAGE, page_language == "", language == page_language)


def _rules(name: str) -> tuple[Any, ColumnElement[bool]]:
    """An alias of ``curations`` and its "in force now" condition."""
    rule = Curation.__table__.alias(name)
    return rule, or_(rule.c.expires_at.is_(None), rule.c.expires_at > _NOW)


def _curated_away() -> ColumnElement[bool]:
    """The target is blocked for this page or site-wide, or pinned to this page (pins are
    placed separately): it never appears among the ranked items."""
    rule, in_force = _rules("cx")
    return exists().where(rule.c.target_id == _RELATED.c.target_id, in_force,
                          or_(rule.c.article_id == _PAGE.c.id,
                              and_(rule.c.article_id.is_(None), rule.c.kind == "block")))


def _has_pins() -> ColumnElement[bool]:
    pin, in_force = _rules("cp")
    return exists().where(pin.c.article_id == _PAGE.c.id, pin.c.kind == "pin", in_force)


def _page_filter(key: ColumnElement[Any], page_live: bool) -> list[ColumnElement[bool]]:
    found = [key == bindparam("key")]
    return [*found, live_clause(_NOW, _PAGE.c)] if page_live else found  # type: ignore[arg-type]


_PAGE_COLUMNS = (_PAGE.c.id.label("page_id"), _PAGE.c.external_id.label("page_external_id"),
                 _PAGE.c.url.label("page_url"), _PAGE.c.canonical_url.label("page_canonical_url"),
                 _PAGE.c.title.label("page_title"), _PAGE.c.language.label("page_language"))


def _list_statement(key: ColumnElement[Any], page_live: bool = True) -> Select[Any]:
    # Plain inner joins driven by the page's unique key: both planners probe this page's rows by
    # index whatever their statistics say (an outer join with the target's liveness as EXISTS
    # let PostgreSQL start from every live article; a parenthesised join made SQLite materialise
    # every list). A page with nothing to show returns no row: ``_PAGE_ONLY`` then tells an
    # empty list from a missing page.
    statement: Select[Any] = (
        select(*_PAGE_COLUMNS, _has_pins().label("has_pins"), _RELATED.c.score,
               _RELATED.c.fallback, _RELATED.c.build_id, *_TEASER_COLUMNS)
        .join_from(_PAGE, _RELATED, _RELATED.c.article_id == _PAGE.c.id)
        .join(_TARGET, _TARGET.c.id == _RELATED.c.target_id)
        .where(*_page_filter(key, page_live), _TARGET.c.id != _PAGE.c.id,
               live_clause(_NOW, _TARGET.c),  # type: ignore[arg-type]
               _language_ok(_PAGE.c.language, _TARGET.c.language), ~_curated_away())
        .order_by(_RELATED.c.position).limit(bindparam("k")))
    return statement


def _page_statement(key: ColumnElement[Any], page_live: bool = True) -> Select[Any]:
    statement: Select[Any] = select(*_PAGE_COLUMNS, _has_pins().label("has_pins"),
                                    literal("").label("build_id")).where(
        *_page_filter(key, page_live))
    return statement


def _pins_statement() -> Select[Any]:
    """This page's pins in force, to live, unblocked targets other than the page itself."""
    pin, in_force = _rules("cq")
    block, block_in_force = _rules("cb")
    blocked = exists().where(block.c.target_id == _TARGET.c.id, block.c.kind == "block",
                             block_in_force, or_(block.c.article_id.is_(None),
                                                 block.c.article_id == pin.c.article_id))
    statement: Select[Any] = (
        select(pin.c.position.label("pin_position"), *_TEASER_COLUMNS)
        .join_from(pin, _TARGET, _TARGET.c.id == pin.c.target_id)
        .where(pin.c.article_id == bindparam("page"), pin.c.kind == "pin", in_force,
               _TARGET.c.id != pin.c.article_id, ~blocked,
               _language_ok(bindparam("page_language", type_=String()), _TARGET.c.language),
               live_clause(_NOW, _TARGET.c))  # type: ignore[arg-type]
        .order_by(pin.c.id))
    return statement


def _pair(key: ColumnElement[Any], page_live: bool = True) -> tuple[Prepared, Prepared]:
    return (Prepared(_list_statement(key, page_live)), Prepared(_page_statement(key, page_live)))


_BY_EXTERNAL_ID = _pair(_PAGE.c.external_id)
_BY_URL = _pair(_PAGE.c.url)
_BY_ROW = _pair(_PAGE.c.id, page_live=False)  # the editors' view of any article
_PINS = Prepared(_pins_statement())


def _teaser(row: Any, position: int, score: float, fallback: bool, pinned: bool) -> Teaser:
    minutes = read_minutes(row.word_count)
    return Teaser(id=row.external_id, url=row.canonical_url or row.url,  # as published
                  title=row.title, dek=row.dek,
                  image=row.image, section=row.section, authors=tuple(row.authors or ()),
                  published_at=row.published_at, read_minutes=minutes,
                  read_label=read_label(minutes), position=position, score=round(score, 4),
                  fallback=fallback, pinned=pinned)


def lookup_related(source: Connection | Engine, k: int, *, external_id: str | None = None,
                   url: str | None = None, same_language: bool = True) -> RelatedList:
    """The list a reader sees on the live page with this CMS id or (normalised) URL.

    The readers' hot path: ``find_article`` and ``related_for`` in one prepared statement (two
    when the page has pins), with the same rules; on an engine, a pooled connection is used
    just for it. Raises ArticleNotFound.
    """
    if external_id is not None:
        statements, key = _BY_EXTERNAL_ID, external_id
    elif url is not None:
        try:
            statements, key = _BY_URL, normalize_url(url)
        except InvalidURL:  # e.g. a normalised URL normalised again grew past the length limit
            raise ArticleNotFound(f"no published article with url {url!r}") from None
    else:
        raise ValueError("pass external_id or url")
    listing = _listing(source, statements, key, k, same_language)
    if listing is None:
        raise ArticleNotFound(f"no published article with {'id' if external_id else 'url'} "
                              f"{external_id or url!r}")
    return listing


def related_for(session: Session, article: Article, k: int, *,
                same_language: bool = True) -> RelatedList:
    """The first ``k`` live, unblocked items of the stored list, with current pins applied.

    The language rule is re-applied too (``same_language``, the policy's)."""
    listing = _listing(session.connection(), _BY_ROW, article.id, k, same_language)
    assert listing is not None  # the article is a row of this session's database
    return listing


def _listing(source: Connection | Engine, statements: tuple[Prepared, Prepared], key: object,
             k: int, same_language: bool) -> RelatedList | None:
    now = utcnow()
    any_language = not same_language
    listed, page_only = statements
    rows = listed.rows(source, key=key, now=now, k=k, any_language=any_language)
    if rows:
        page = rows[0]
        ordered: list[tuple[Any, float, bool, bool]] = [
            (row, row.score, row.fallback, False) for row in rows]
    else:  # nothing to show, or no such page
        found = page_only.rows(source, key=key, now=now)
        if not found:
            return None
        page, ordered = found[0], []
    if page.has_pins:
        pins = {row.id: row for row in _PINS.rows(source, page=page.page_id, now=now,
                                                  page_language=page.page_language,
                                                  any_language=any_language)}
        for row in sorted(pins.values(), key=lambda r: int(r.pin_position)):
            ordered.insert(min(row.pin_position - 1, len(ordered)), (row, 0.0, False, True))
    teasers = tuple(_teaser(row, i, score, fallback, pinned)
                    for i, (row, score, fallback, pinned) in enumerate(ordered[:k], start=1))
    return RelatedList(article_id=page.page_external_id,
                       article_url=page.page_canonical_url or page.page_url,
                       article_title=page.page_title, build_id=page.build_id or "",
                       items=teasers)
