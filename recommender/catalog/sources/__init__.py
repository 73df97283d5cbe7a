"""Importing from live sources (RSS/Atom feeds, WordPress, sitemaps): fetch everything, then upsert.

A sync that dies half-way (a timeout, a 500 on page 3) must leave the catalogue as it was, so
every document is fetched and parsed before anything is written; the caller commits. Records
go through the same ``validate_batch`` / ``upsert_articles`` as file imports, so a re-sync is
idempotent and a bad entry is skipped and listed rather than failing the whole source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.articles import ArticleInput
from recommender.catalog.live import LIVE_STATUSES
from recommender.catalog.sources.http import DEFAULT_TIMEOUT, Fetched, SourceError, host_of
from recommender.catalog.storing import upsert_articles
from recommender.catalog.validation import Problem, validate_batch
from recommender.storage.schema import Article, utcnow

__all__ = ["SOURCE_KINDS", "SourceError", "SyncReport", "parse_spec", "sync_source"]

Fetcher = Callable[..., Fetched]
# Each kind's module is imported on first use (``fetcher``): feeds need feedparser, sitemaps
# trafilatura and lxml; a site without such a source, or a reindex with none, never imports them.
SOURCE_KINDS = ("rss", "atom", "wordpress", "sitemap")
_WITHDRAWABLE = ("wordpress", "sitemap")  # feeds list only the latest entries


@dataclass
class SyncReport:
    """What one sync did; ``added``/``updated`` are internal ids, so their lists can be refreshed."""

    seen: int = 0
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    withdrawn: list[str] = field(default_factory=list)  # external ids set to unpublished
    not_modified: int = 0  # left out by an incremental sync

    def summary(self) -> dict[str, int]:
        return {"seen": self.seen, "added": len(self.added), "updated": len(self.updated),
                "unchanged": self.unchanged, "skipped": len(self.skipped),
                "withdrawn": len(self.withdrawn), "not_modified": self.not_modified}


def parse_spec(spec: str) -> tuple[str, str]:
    """``kind:location`` -> (kind, location), or ValueError saying what a spec looks like."""
    kind, sep, location = spec.partition(":")
    if not sep or kind.lower() not in SOURCE_KINDS or not location.strip():
        raise ValueError(f"bad source {spec!r}: expected {'|'.join(SOURCE_KINDS)}:URL_OR_PATH")
    return kind.lower(), location.strip()


def fetcher(kind: str) -> Fetcher:
    """The fetch function of a source kind, importing its module (and its libraries) now."""
    if kind in ("rss", "atom"):
        from recommender.catalog.sources.feeds import fetch_feed

        return fetch_feed
    if kind == "wordpress":
        from recommender.catalog.sources.wordpress import fetch_wordpress

        return fetch_wordpress
    if kind == "sitemap":
        from recommender.catalog.sources.sitemap import fetch_sitemap

        return fetch_sitemap
    raise ValueError(f"unknown source kind {kind!r}: expected {'|'.join(SOURCE_KINDS)}")


def _skipped(problem: Problem[str]) -> tuple[str, str]:
    """A sync's wording: (where, reason); a duplicate quotes its id or URL, a taken URL is listed
    under that URL."""
    item = problem.item
    if problem.kind == "taken" and item is not None:
        return item.url, problem.text
    if problem.kind == "duplicate" and item is not None:
        key = f"id {item.external_id!r}" if problem.field == "id" else f"url {item.url}"
        return problem.where, f"duplicate {key} (first at {problem.first})"
    return problem.where, problem.text


def _fill_dates(session: Session, items: list[ArticleInput]) -> list[ArticleInput]:
    """An undated article keeps the date it was first imported with, so re-syncs change nothing."""
    undated = [i.external_id for i in items if i.published_at is None]
    stored: dict[str, datetime | None] = {}
    for start in range(0, len(undated), 500):
        rows = session.execute(select(Article.external_id, Article.published_at).where(
            Article.external_id.in_(undated[start:start + 500])))
        stored.update((external_id, published) for external_id, published in rows)
    now = utcnow()
    return [i if i.published_at is not None or i.status not in LIVE_STATUSES
            else dataclasses.replace(i, published_at=stored.get(i.external_id) or now)
            for i in items]


def _withdraw(session: Session, fetched: Fetched, seen: set[str]) -> list[str]:
    """Unpublish stored articles of this source that the full sync no longer returned."""
    hosts = fetched.hosts - {""}
    rows = session.scalars(select(Article).where(
        Article.external_id.startswith(fetched.id_prefix, autoescape=True),
        Article.status != "unpublished"))
    withdrawn = []
    for article in rows:
        if article.external_id not in seen and host_of(article.url) in hosts:
            article.status = "unpublished"
            withdrawn.append(article.external_id)
    session.flush()
    return sorted(withdrawn)


def sync_source(session: Session, spec: str, *, since: datetime | None = None,
                timeout: float = DEFAULT_TIMEOUT, withdraw_missing: bool = False) -> SyncReport:
    """Fetch one source completely, then upsert it (no commit); SourceError stores nothing."""
    kind, location = parse_spec(spec)
    if withdraw_missing and (since is not None or kind not in _WITHDRAWABLE):
        raise ValueError("withdraw_missing needs a full (not --since) wordpress or sitemap sync")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    fetched = fetcher(kind)(location, since=since, timeout=timeout)
    report = SyncReport(skipped=list(fetched.skipped), not_modified=fetched.not_modified)
    report.seen = len(fetched.records) + len(fetched.skipped)
    items, problems = validate_batch(session, fetched.records)
    # URLs taken by stored articles are listed after the other problems, as they always were
    report.skipped.extend(_skipped(p) for p in sorted(problems, key=lambda p: p.kind == "taken"))
    # an undated entry's date is filled in below, from the stored article if there is one
    items = [i if i.dated else dataclasses.replace(i, published_at=None) for i in items]
    seen = {str(record.get("id")) for _, record in fetched.records}
    if withdraw_missing and not fetched.records:
        raise SourceError(location, "returned no articles; refusing to withdraw every stored one")
    result = upsert_articles(session, _fill_dates(session, items))
    report.added, report.updated, report.unchanged = (result.added, result.updated,
                                                      len(result.unchanged))
    if withdraw_missing:
        report.withdrawn = _withdraw(session, fetched, seen)
    return report
