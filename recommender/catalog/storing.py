"""Storing validated articles: upsert by (site, CMS id), and the URLs another stored article already uses.

A re-sent article must update the stored one in place (same internal id, so its lists and curation
survive) and an unchanged one must not be touched, so re-importing is idempotent everywhere; the
caller decides when to commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog import text as textutil
from recommender.catalog.articles import ArticleInput
from recommender.storage.schema import Article, site_of


@dataclass
class UpsertResult:
    """Which stored articles an upsert touched, so lists can be refreshed for exactly those."""

    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    @property
    def changed(self) -> list[int]:
        return self.added + self.updated


def _apply(article: Article, item: ArticleInput) -> bool:
    """Copy the input onto the stored row; True if anything changed."""
    published_at = item.published_at
    if (not item.dated and item.status == "published" and article.status == "published"
            and article.published_at is not None and published_at is not None
            and article.published_at <= published_at):
        published_at = article.published_at  # already live: it went live when first received
    values: dict[str, Any] = {
        "url": item.url, "title": item.title, "dek": item.dek, "body": item.body,
        "authors": item.authors, "tags": item.tags, "section": item.section,
        "content_type": item.content_type, "language": item.language, "status": item.status,
        "published_at": published_at, "updated_at": item.updated_at, "image": item.image,
        "word_count": textutil.word_count(item.body), "content_hash": item.content_hash,
        "canonical_url": item.canonical_url,
    }
    changed = False
    for name, value in values.items():
        if getattr(article, name) != value:
            setattr(article, name, value)
            changed = True
    return changed


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), 500):
        yield values[start:start + 500]


def stored_by_key(session: Session, items: list[ArticleInput]) -> dict[tuple[str, str], Article]:
    """The stored articles of ``items``, keyed by (site, source id): the identity of an article."""
    wanted = {(site_of(i.url), i.external_id) for i in items}
    found: dict[tuple[str, str], Article] = {}
    for chunk in _chunks(sorted({source_id for _, source_id in wanted})):
        for article in session.scalars(select(Article).where(Article.source_id.in_(chunk))):
            if (article.site, article.source_id) in wanted:
                found[(article.site, article.source_id)] = article
    return found


def _stored_by_url(session: Session, urls: list[str]) -> dict[str, Article]:
    found: dict[str, Article] = {}
    for chunk in _chunks(urls):
        found.update((a.url, a) for a in session.scalars(select(Article).where(Article.url.in_(chunk))))
    return found


def _public_ids(session: Session, items: list[ArticleInput]) -> dict[tuple[str, str], str]:
    """The public id of each new article: its source's id, qualified by its site (``wp-12@host``)
    only when another site's article already has that id, so existing ids never change."""
    taken: set[str] = set()
    for chunk in _chunks(sorted({i.external_id for i in items})):
        taken.update(session.scalars(select(Article.external_id).where(Article.external_id.in_(chunk))))
    out: dict[tuple[str, str], str] = {}
    for item in items:
        key = (site_of(item.url), item.external_id)
        public = item.external_id if item.external_id not in taken else f"{item.external_id}@{key[0]}"
        if len(public) > 255 or public in taken:  # never cut to a clash: a digest of the site
            digest = hashlib.sha256(key[0].encode()).hexdigest()[:16]
            public = f"{item.external_id[:255 - 17]}@{digest}"
        taken.add(public)
        out[key] = public
    return out


def upsert_articles(session: Session, items: Iterable[ArticleInput], *,
                    match_url: bool = False) -> UpsertResult:
    """Insert new articles and update changed ones in place, keyed by (site, source id); with
    ``match_url`` (syncs) an article already stored under the same URL is the same article,
    whichever source id it came with (a feed's guid, then the sitemap's URL). No commit."""
    batch = list(items)
    result = UpsertResult()
    existing = stored_by_key(session, batch)
    if match_url:
        by_url = _stored_by_url(session, [i.url for i in batch
                                          if (site_of(i.url), i.external_id) not in existing])
        for item in batch:
            key = (site_of(item.url), item.external_id)
            if key not in existing and item.url in by_url:
                existing[key] = by_url[item.url]
    fresh = [i for i in batch if (site_of(i.url), i.external_id) not in existing]
    public = _public_ids(session, fresh)
    new_articles: list[Article] = []
    for item in batch:
        key = (site_of(item.url), item.external_id)
        article = existing.get(key)
        if article is None:
            article = Article(external_id=public[key], site=key[0], source_id=item.external_id)
            _apply(article, item)
            session.add(article)
            existing[key] = article
            new_articles.append(article)
        elif _apply(article, item):
            result.updated.append(article.id)
        else:
            result.unchanged.append(article.id)
    session.flush()
    result.added.extend(a.id for a in new_articles)
    return result


def find_url_conflicts(session: Session, items: list[ArticleInput]) -> dict[str, str]:
    """URLs in ``items`` already stored for another article: {url: that article's public id}."""
    source_of = {i.url: i.external_id for i in items}
    return {url: article.external_id
            for url, article in _stored_by_url(session, list(source_of)).items()
            if article.source_id != source_of[url]}
