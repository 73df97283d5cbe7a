"""Scheduled articles going live (``live.due``, ``related-reading publish-due``): each gets its
own list and enters its neighbours' lists at the next run, once. Time is simulated by moving a
scheduled article's ``published_at`` into the past, as the clock would."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.live.due import publish_due
from recommender.live.publishing import publish
from recommender.live.recommender import Recommender
from recommender.readers import find_article
from recommender.storage.schema import Article, AuditEntry, RelatedItem, utcnow
from tests.helpers.fakes import FakeEncoder
from tests.helpers.sites import stored

Demo = tuple[Recommender, sessionmaker[Session], FakeEncoder]


def _schedule(session: Session, rec: Recommender, external_id: str, source_id: str) -> Article:
    """A follow-up of ``source_id`` scheduled for tomorrow, through the publish path."""
    source = stored(session, source_id)
    record = {"id": external_id, "url": f"https://meridian.example/{external_id}",
              "title": "Follow-up: " + source.title, "dek": source.dek, "body": source.body,
              "tags": list(source.tags), "section": source.section,
              "published_at": (utcnow() + timedelta(days=1)).isoformat()}
    report = publish(session, rec, record, "api-key:test")
    assert [i.status for i in report.items] == ["scheduled"]
    return stored(session, external_id)


def _holders(session: Session, article_id: int) -> set[int]:
    return set(session.scalars(select(RelatedItem.article_id)
                               .where(RelatedItem.target_id == article_id)))


def _own(session: Session, article_id: int) -> list[int]:
    return list(session.scalars(select(RelatedItem.target_id)
                                .where(RelatedItem.article_id == article_id)))


def test_a_scheduled_article_gets_its_list_and_its_neighbours_at_the_next_run(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        article = _schedule(session, rec, "later-1", "demo-001")
        assert publish_due(session, rec).went_live == []  # not yet due: nothing happens
        article.published_at = utcnow() - timedelta(minutes=1)  # its time has come
        session.commit()
        # live for readers, but before the run: no list of its own, in nobody's list
        assert find_article(session, external_id="later-1").id == article.id
        assert _own(session, article.id) == [] and _holders(session, article.id) == set()
        report = publish_due(session, rec)
        assert report.went_live == ["later-1"] and report.lists_updated >= 2
        assert not report.remaining
        session.expire_all()
        assert len(_own(session, article.id)) == rec.settings.related_k
        assert len(_holders(session, article.id)) >= 2  # its neighbours' lists now hold it
        assert stored(session, "later-1").status == "published"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.article_id == article.id,
                                                         AuditEntry.action == "article-went-live"))
        assert [a.actor for a in audit] == ["publish-due"]
        again = publish_due(session, rec)  # handled once: never due again
        assert again.went_live == [] and again.lists_updated == 0


def test_a_backlog_is_worked_off_over_runs_oldest_first(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        articles = [_schedule(session, rec, f"later-{i}", f"demo-00{i}") for i in range(1, 4)]
        for minutes, article in zip((3, 1, 2), articles, strict=True):
            article.published_at = utcnow() - timedelta(minutes=minutes)
        session.commit()
        first = publish_due(session, rec, limit=2)
        assert first.went_live == ["later-1", "later-3"] and first.remaining
        assert publish_due(session, rec, limit=2).went_live == ["later-2"]
