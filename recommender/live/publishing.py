"""Publishing and withdrawing articles pushed by a CMS: validate all, store, refresh the lists.

The publish webhook (``web.ingest``) is a thin layer over this module, so the rules live in the
library: a request is all-or-nothing (every problem is reported and nothing is stored if any item
is invalid), an unchanged article costs no refresh (repeating a request changes nothing), and the
articles, the lists they enter or leave and the audit entries commit in one transaction under the
writer lock, before the caller answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog import validation
from recommender.catalog.articles import ArticleInput, InvalidArticle
from recommender.catalog.storing import stored_by_key, upsert_articles
from recommender.live.recommender import Recommender
from recommender.storage.schema import Article, AuditEntry, site_of

MAX_ARTICLES = 500


@dataclass(frozen=True)
class Problem:
    """One reason an item was refused: its index in the request, the field, what is wrong."""

    index: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


class PublishRejected(ValueError):
    """The request was refused as a whole; nothing was stored."""

    def __init__(self, message: str, problems: list[Problem] | None = None, *,
                 conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        # every item is valid, but some clash: an id or URL twice in the request, or a URL
        # another stored article has (a 409, not a 422: the request is well-formed)
        self.conflict = conflict


class UnknownArticle(LookupError):
    """No stored article has this CMS id."""


@dataclass(frozen=True)
class ItemResult:
    id: str
    action: str  # added | updated | unchanged | withdrawn
    status: str
    lists_updated: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "status": self.status,
                "lists_updated": self.lists_updated}


@dataclass
class PublishReport:
    items: list[ItemResult] = field(default_factory=list)
    lists_updated: int = 0
    refreshed: bool = False

    @property
    def added(self) -> bool:
        return any(i.action == "added" for i in self.items)


def records_of(payload: Any) -> list[Any]:
    """The records in a request body: one article object, a list, or ``{"articles": [...]}``."""
    if isinstance(payload, Mapping) and "articles" in payload and "id" not in payload:
        payload = payload["articles"]
        if not isinstance(payload, list):
            raise PublishRejected('"articles" must be a list of article objects')
    if isinstance(payload, Mapping):
        return [payload]
    if not isinstance(payload, list):
        raise PublishRejected('expected an article object, a list of them or {"articles": [...]}')
    if not payload:
        raise PublishRejected("no articles in the request")
    if len(payload) > MAX_ARTICLES:
        raise PublishRejected(f"at most {MAX_ARTICLES} articles per request; got {len(payload)}; "
                              "split the batch")
    return payload


def _problem(found: validation.Problem[int]) -> Problem:
    """The webhook's wording: the field apart, a duplicate naming the first copy's index."""
    message = found.message
    if found.first is not None:
        message += f" (first at index {found.first})"
    return Problem(found.where, found.field, message)


def validate(session: Session, records: list[Any],
             now: datetime | None = None) -> list[ArticleInput]:
    """Every record parsed, or PublishRejected listing every problem of every record."""
    # a non-object is worded for API clients ("an article object"), not as a file row would be
    entries = [(index, record if isinstance(record, Mapping) else
                InvalidArticle("expected an article object with id, url and title"))
               for index, record in enumerate(records)]
    items, found = validation.validate_batch(session, entries, now=now, every_field=True)
    if found:
        problems = [_problem(p) for p in found]  # in index order
        raise PublishRejected(f"{len(problems)} problem(s) in the request; nothing was stored",
                              problems, conflict=all(p.kind != "invalid" for p in found))
    return items


def _audit(session: Session, actor: str, action: str, article_id: int, external_id: str) -> None:
    session.add(AuditEntry(actor=actor, action=action, article_id=article_id,
                           reason="publish webhook", details={"external_id": external_id}))


def publish(session: Session, recommender: Recommender, payload: Any,
            actor: str) -> PublishReport:
    """Validate, upsert and refresh every affected list, then commit (or store nothing).

    Only added or changed articles are refreshed (a status change is a change), so repeating a
    request touches no list. The encoder is loaded on the first refresh in this process.
    """
    records = records_of(payload)
    report = PublishReport()
    try:
        with recommender.writing(session):  # validated under the lock: no URL can be taken meanwhile
            items = validate(session, records)
            result = upsert_articles(session, items)
            by_key = stored_by_key(session, items)  # (site, source id): the article's identity
            stored = {i.external_id: by_key[(site_of(i.url), i.external_id)] for i in items}
            actions = {**dict.fromkeys(result.added, "added"),
                       **dict.fromkeys(result.updated, "updated")}
            for item in items:
                article = stored[item.external_id]
                if article.id in actions:
                    _audit(session, actor, f"article-{actions[article.id]}", article.id,
                           item.external_id)
            lists_by_article: dict[int, list[int]] = {}
            if result.changed:
                refresh = recommender.refresh(session, result.changed)  # commits
                lists_by_article = refresh.lists_by_article
                report.lists_updated = len(refresh.lists_updated)
                report.refreshed = True
            else:
                session.rollback()  # nothing changed: nothing to commit
    except BaseException:
        session.rollback()
        raise
    for item in items:
        article = stored[item.external_id]
        report.items.append(ItemResult(item.external_id, actions.get(article.id, "unchanged"),
                                       article.status, len(lists_by_article.get(article.id, []))))
    return report


def withdraw(session: Session, recommender: Recommender, external_id: str,
             actor: str) -> ItemResult:
    """Unpublish an article and take it out of every list before returning (idempotent)."""
    try:
        with recommender.writing(session):
            article = session.scalars(select(Article).where(
                Article.external_id == external_id)).first()
            if article is None:
                raise UnknownArticle(f"no article with id {external_id!r}")
            if article.status == "unpublished":
                session.rollback()
                return ItemResult(external_id, "unchanged", "unpublished", 0)
            article.status = "unpublished"
            _audit(session, actor, "article-withdrawn", article.id, external_id)
            session.flush()
            article_id = article.id
            refresh = recommender.refresh(session, [article_id])  # commits
    except BaseException:
        session.rollback()
        raise
    return ItemResult(external_id, "withdrawn", "unpublished",
                      len(refresh.lists_by_article.get(article_id, [])))
