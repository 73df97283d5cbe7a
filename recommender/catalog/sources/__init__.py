"""Importing from live sources (RSS/Atom feeds, WordPress, sitemaps): fetch everything, then upsert.

An article belongs to a site (the host of its URL) and is the same article whichever source of
that site lists it. Withdrawal is decided per site over everything a run fetched from it
(:class:`SyncRun`): an article is unpublished only when no source of its site lists it any more,
and only complete listings (WordPress, sitemaps; never a feed's latest entries) can decide that.

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
from recommender.catalog.sources.auth import CredentialStore
from recommender.catalog.sources.http import DEFAULT_TIMEOUT, Fetched, SourceError, host_of, is_remote
from recommender.catalog.storing import stored_by_key, upsert_articles
from recommender.catalog.validation import Problem, validate_batch
from recommender.storage.schema import Article, site_of, utcnow

__all__ = ["SOURCE_KINDS", "SourceError", "SyncReport", "SyncRun", "parse_spec", "sync_source"]

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
    notes: list[str] = field(default_factory=list)  # e.g. "only published posts are visible"

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
    stored = stored_by_key(session, [i for i in items if i.published_at is None])
    now = utcnow()
    return [i if i.published_at is not None or i.status not in LIVE_STATUSES
            else dataclasses.replace(i, published_at=getattr(
                stored.get((site_of(i.url), i.external_id)), "published_at", None) or now)
            for i in items]


@dataclass
class SyncRun:
    """What every source of one run listed, per site, so withdrawal sees all of a site's sources."""

    listed: dict[str, set[str]] = field(default_factory=dict)  # site -> source ids and URLs
    seen: dict[str, set[int]] = field(default_factory=dict)  # site -> stored ids synced now
    complete: set[str] = field(default_factory=set)  # sites a complete listing spoke for
    failed: set[str] = field(default_factory=set)  # sites a source failed for: nothing withdrawn

    def record(self, fetched: Fetched, articles: list[Article]) -> None:
        for article in articles:
            self.seen.setdefault(article.site, set()).add(article.id)
            self.listed.setdefault(article.site, set()).update((article.source_id, article.url))
        for site in fetched.hosts - {""}:
            self.listed.setdefault(site, set()).update(fetched.listed)
            if fetched.complete:
                self.complete.add(site)

    def fail(self, location: str) -> None:
        if is_remote(location):
            self.failed.add(host_of(location))

    def withdraw(self, session: Session) -> list[str]:
        """Unpublish the articles of each completely listed site that no source lists any more."""
        withdrawn: list[str] = []
        for site in sorted(self.complete - self.failed):
            listed, seen = self.listed.get(site, set()), self.seen.get(site, set())
            for article in session.scalars(select(Article).where(
                    Article.site == site, Article.status != "unpublished")):
                if (article.id not in seen and article.source_id not in listed
                        and article.url not in listed):
                    article.status = "unpublished"
                    withdrawn.append(article.external_id)
        session.flush()
        return sorted(withdrawn)


def sync_source(session: Session, spec: str, *, since: datetime | None = None,
                timeout: float = DEFAULT_TIMEOUT, withdraw_missing: bool = False,
                credentials: CredentialStore | None = None, run: SyncRun | None = None,
                ) -> SyncReport:
    """Fetch one source completely, then upsert it (no commit); SourceError stores nothing.

    ``withdraw_missing`` alone withdraws what this source no longer lists; with a ``run`` the
    source is only recorded there and the caller calls ``run.withdraw`` once every source of the
    run is synced (how the CLI and the nightly job treat a site with several sources)."""
    kind, location = parse_spec(spec)
    if withdraw_missing and kind not in _WITHDRAWABLE:
        raise ValueError("withdraw_missing needs a wordpress or sitemap source (a feed lists only "
                         "its latest entries)")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    options: dict[str, object] = {"since": since, "timeout": timeout}
    if kind == "wordpress":
        options["credentials"] = (credentials or CredentialStore()).for_site(location)
    elif kind == "sitemap":
        options["known"] = _known_urls(session)
    try:
        fetched = fetcher(kind)(location, **options)
    except SourceError:
        if run is not None:
            run.fail(location)
        raise
    report = SyncReport(skipped=list(fetched.skipped), not_modified=fetched.not_modified,
                        notes=list(fetched.notes))
    report.seen = len(fetched.records) + len(fetched.skipped)
    items, problems = validate_batch(session, fetched.records, check_taken=False)
    report.skipped.extend(_skipped(p) for p in problems)
    # an undated entry's date is filled in below, from the stored article if there is one
    items = [i if i.dated else dataclasses.replace(i, published_at=None) for i in items]
    if withdraw_missing and not fetched.records and not fetched.listed:
        raise SourceError(location, "returned no articles; refusing to withdraw every stored one")
    result = upsert_articles(session, _fill_dates(session, items), match_url=True)
    report.added, report.updated, report.unchanged = (result.added, result.updated,
                                                      len(result.unchanged))
    synced = result.added + result.updated + result.unchanged
    articles = [a for a in (session.get(Article, i) for i in synced) if a is not None]
    own = run if run is not None else SyncRun()
    own.record(fetched, articles)
    if withdraw_missing and run is None:
        report.withdrawn = own.withdraw(session)
    return report


def _known_urls(session: Session) -> Callable[[str], bool]:
    """For sitemaps without ``lastmod``: is this page already in the catalogue?"""
    def known(url: str) -> bool:
        return session.scalar(select(Article.id).where(Article.url == url)) is not None
    return known
