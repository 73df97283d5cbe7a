"""Storing validated articles: upsert by CMS id, and the URLs another stored article already uses.

A re-sent article must update the stored one in place (same internal id, so its lists and curation
survive) and an unchanged one must not be touched, so re-importing is idempotent everywhere; the
caller decides when to commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog import text as textutil
from recommender.catalog.articles import ArticleInput
from recommender.storage.schema import Article


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
    }
    changed = False
    for name, value in values.items():
        if getattr(article, name) != value:
            setattr(article, name, value)
            changed = True
    return changed


def upsert_articles(session: Session, items: Iterable[ArticleInput]) -> UpsertResult:
    """Insert new articles and update changed ones in place, keyed by CMS id (no commit)."""
    batch = list(items)
    result = UpsertResult()
    existing: dict[str, Article] = {}
    ids = [i.external_id for i in batch]
    for start in range(0, len(ids), 500):
        rows = session.scalars(select(Article).where(Article.external_id.in_(ids[start:start + 500])))
        existing.update({a.external_id: a for a in rows})
    new_articles: list[Article] = []
    for item in batch:
        article = existing.get(item.external_id)
        if article is None:
            article = Article(external_id=item.external_id)
            _apply(article, item)
            session.add(article)
            existing[item.external_id] = article
            new_articles.append(article)
        elif _apply(article, item):
            result.updated.append(article.id)
        else:
            result.unchanged.append(article.id)
    session.flush()
    result.added.extend(a.id for a in new_articles)
    return result


def find_url_conflicts(session: Session, items: list[ArticleInput]) -> dict[str, str]:
    """URLs in ``items`` already stored under another CMS id: {external_id: other id}."""
    urls = {i.url: i.external_id for i in items}
    conflicts: dict[str, str] = {}
    keys = list(urls)
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(Article.url, Article.external_id).where(Article.url.in_(keys[start:start + 500]))
        )
        for url, other in rows:
            if urls[url] != other:
                conflicts[urls[url]] = other
    return conflicts
