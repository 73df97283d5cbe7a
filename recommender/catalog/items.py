"""Reading the catalogue and the editors' rules from the database for the ranker.

The ranker works on small frozen ``ItemInfo`` records, never ORM rows, so a full recompute over a
large catalogue holds no sessions' worth of objects and the stages stay pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from recommender.catalog.live import live_at
from recommender.storage.schema import Article, Curation, utcnow


@dataclass(frozen=True, slots=True)
class ItemInfo:
    """What the ranker needs to know about an article (no text)."""

    id: int
    section: str = ""
    content_type: str = "news"
    language: str = "en"
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    published_at: datetime | None = None
    live: bool = True
    publisher: str = ""  # the URL's host; "" when unknown


FALLBACK_PER_SECTION = 20


def publisher_of(url: str) -> str:
    """The URL's host: same host, same publication (reserved .invalid hosts are unknown)."""
    host = urlsplit(url).hostname or ""
    return "" if host.endswith(".invalid") else host.removeprefix("www.")


def info_of(article: Article, now: datetime) -> ItemInfo:
    return ItemInfo(id=article.id, section=article.section or "",
                    content_type=article.content_type or "", language=article.language or "",
                    authors=tuple(article.authors or ()), tags=tuple(article.tags or ()),
                    published_at=article.published_at,
                    live=live_at(article.status, article.published_at, now),
                    publisher=publisher_of(article.url))


def load_items(session: Session, now: datetime | None = None,
               ids: Iterable[int] | None = None) -> dict[int, ItemInfo]:
    """ItemInfo for every article (or the given ids), without loading bodies."""
    moment = now or utcnow()
    cols = (Article.id, Article.section, Article.content_type, Article.language, Article.authors,
            Article.tags, Article.published_at, Article.status, Article.url)
    query = select(*cols)
    if ids is not None:
        query = query.where(Article.id.in_(list(ids)))
    out: dict[int, ItemInfo] = {}
    for row in session.execute(query):
        out[row.id] = ItemInfo(id=row.id, section=row.section or "",
                               content_type=row.content_type or "", language=row.language or "",
                               authors=tuple(row.authors or ()), tags=tuple(row.tags or ()),
                               published_at=row.published_at,
                               live=live_at(row.status, row.published_at, moment),
                               publisher=publisher_of(row.url))
    return out


@dataclass
class Curations:
    """Active (unexpired) pins and blocks."""

    pins: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    blocks: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    site_blocks: set[int] = field(default_factory=set)

    def blocked_for(self, article_id: int) -> frozenset[int]:
        return frozenset(self.site_blocks | self.blocks.get(article_id, set()))


def active_curations(session: Session, now: datetime | None = None,
                     article_id: int | None = None) -> Curations:
    """Unexpired rules (all, or those that apply to one article's list)."""
    moment = now or utcnow()
    query = select(Curation).where(or_(Curation.expires_at.is_(None), Curation.expires_at > moment))
    if article_id is not None:
        query = query.where(or_(Curation.article_id == article_id, Curation.article_id.is_(None)))
    out = Curations()
    for rule in session.scalars(query.order_by(Curation.id)):
        if rule.kind == "block" and rule.article_id is None:
            out.site_blocks.add(rule.target_id)
        elif rule.kind == "block" and rule.article_id is not None:
            out.blocks[rule.article_id].add(rule.target_id)
        elif rule.kind == "pin" and rule.article_id is not None and rule.position:
            out.pins[rule.article_id].append((rule.target_id, rule.position))
    return out


def recent_by_section(items: dict[int, ItemInfo],
                      per_section: int = FALLBACK_PER_SECTION) -> dict[str, list[ItemInfo]]:
    """The newest live articles of each section: the fallback when too little is related.

    ``per_section`` of each language the section publishes in, newest first: the filler only
    takes the page's language, so a French page in a mostly English section still finds some."""
    groups: dict[tuple[str, str], list[ItemInfo]] = defaultdict(list)
    for info in items.values():
        if info.live and info.section and info.published_at is not None:
            groups[(info.section, info.language)].append(info)
    by_section: dict[str, list[ItemInfo]] = defaultdict(list)
    for (section, _), group in groups.items():
        by_section[section].extend(sorted(group, key=lambda i: i.published_at or datetime.min,
                                          reverse=True)[:per_section])
    return {section: sorted(group, key=lambda i: i.published_at or datetime.min, reverse=True)
            for section, group in by_section.items()}


class CatalogCache:
    """ItemInfo for the whole catalogue, reloaded only when an article changed.

    A live preview must answer in well under 100 ms on a 10,000-article catalogue; reading every
    article's metadata per request costs more than that, so the fingerprint (count, last change)
    is checked instead, and liveness is re-evaluated at least every ``max_age`` seconds because
    scheduled articles go live without any row changing.
    """

    def __init__(self, max_age: float = 60.0) -> None:
        self._max_age = max_age
        self._key: tuple[int, datetime | None] | None = None
        self._loaded = 0.0
        self._items: dict[int, ItemInfo] = {}
        self._sections: dict[str, list[ItemInfo]] = {}

    def get(self, session: Session) -> tuple[dict[int, ItemInfo], dict[str, list[ItemInfo]]]:
        import time

        count, last = session.execute(select(func.count(Article.id), func.max(Article.modified))).one()
        key = (int(count), last)
        if key != self._key or time.monotonic() - self._loaded > self._max_age:
            self._items = load_items(session)
            self._sections = recent_by_section(self._items)
            self._key, self._loaded = key, time.monotonic()
        return self._items, self._sections
