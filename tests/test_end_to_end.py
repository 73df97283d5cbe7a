"""End to end with the real all-MiniLM-L6-v2 on the demo magazine (slow start: ~10 s import)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.embedding.encoder import SentenceTransformerEncoder
from recommender.jobs.build import full_build
from recommender.live.recommender import Draft, Recommender
from recommender.readers import find_article
from recommender.settings import Settings
from recommender.storage import migrations
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import Article, Curation, RelatedItem
from tests.helpers.demo import load_demo

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, encoder: SentenceTransformerEncoder
         ) -> Iterator[tuple[Recommender, sessionmaker[Session]]]:
    data = tmp_path_factory.mktemp("model-site")
    settings = Settings.from_env({"RELATED_DATA_DIR": str(data)})
    engine, factory = load_demo(settings)
    rec = Recommender(settings, factory, encoder=encoder)
    full_build(rec)
    yield rec, factory
    engine.dispose()


def _ext(session: Session, ext: str) -> Article:
    return session.scalars(select(Article).where(Article.external_id == ext)).one()


def test_lists_are_on_topic_and_safe(site: tuple[Recommender, sessionmaker[Session]]) -> None:
    rec, factory = site
    with factory() as session:
        summit = find_article(session, external_id="demo-001")  # Russia-India summit report
        related = rec.related(session, summit, 5)
        assert len(related.items) == 5
        topical = [i for i in related.items
                   if {"india", "russia"} & set(_ext(session, i.id).tags)]
        assert len(topical) >= 4, [i.title for i in related.items]
        hidden = {_ext(session, "demo-086").id, _ext(session, "demo-084").id}
        for row in session.scalars(select(RelatedItem)):
            assert row.target_id != row.article_id and row.target_id not in hidden
        original = _ext(session, "demo-044")
        update = _ext(session, "demo-085")  # the updated version of demo-044
        targets = set(session.scalars(select(RelatedItem.target_id)
                                      .where(RelatedItem.article_id == original.id)))
        assert update.id not in targets


def test_draft_preview_explains_and_stores_nothing(
        site: tuple[Recommender, sessionmaker[Session]]) -> None:
    rec, factory = site
    with factory() as session:
        before = session.scalars(select(RelatedItem.id)).all()
        draft = Draft(title="Iran offers to cap uranium enrichment as inspectors return",
                      body="Negotiators said Tehran would allow IAEA inspectors back to its "
                           "enrichment sites in exchange for sanctions relief.",
                      tags=("iran", "nuclear"), content_type="news")
        explanation = rec.preview(session, draft, 3)
        assert len(explanation.items) == 3
        for item in explanation.items:
            article = session.get(Article, item.article_id)
            assert article is not None and "iran" in article.tags
            assert {"semantic", "lexical", "tags", "recency"} <= set(item.signals)
        assert session.scalars(select(RelatedItem.id)).all() == before


def test_publish_pin_and_withdraw_without_rebuild(
        site: tuple[Recommender, sessionmaker[Session]]) -> None:
    rec, factory = site
    with factory() as session:
        summit = _ext(session, "demo-001")
        new = Article(external_id="model-new", url="https://meridian.example/model-new",
                      title="Delhi and Moscow agree rupee payments for discounted crude",
                      dek="Indian refiners will settle Russian oil in rupees under a new deal.",
                      body="India and Russia agreed at their summit in Delhi that refiners will "
                           "pay for Russian crude in rupees, extending the payment channel set up "
                           "after Western sanctions. Officials said defence deliveries, including "
                           "S-400 batteries, would continue on schedule.",
                      tags=["india", "russia", "energy", "payments"], section="Asia",
                      content_type="news", status="published",
                      published_at=summit.published_at, content_hash="new", word_count=60)
        session.add(new)
        session.commit()
        rec.refresh(session, [new.id])
        holders = set(session.scalars(select(RelatedItem.article_id)
                                      .where(RelatedItem.target_id == new.id)))
        assert summit.id in holders
        far = _ext(session, "demo-070")
        session.add(Curation(kind="pin", article_id=summit.id, target_id=far.id, position=1,
                             created_by="test"))
        session.commit()
        assert rec.related(session, summit, 3).items[0].id == "demo-070"
        new.status = "unpublished"
        session.commit()
        assert all(i.id != "model-new" for i in rec.related(session, summit, 12).items)
        rec.refresh(session, [new.id])
        assert not session.scalars(select(RelatedItem).where(
            RelatedItem.target_id == new.id)).all()


def test_bad_text_has_defined_outcomes(tmp_path: Path, encoder: SentenceTransformerEncoder) -> None:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    migrations.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        session.add(Article(external_id="only", url="https://x.example/only", title="Alone",
                            body="<p>Just <b>one</b> article.</p>", content_hash="h",
                            status="published", published_at=None))
        session.commit()
    rec = Recommender(settings, factory, encoder=encoder)
    report = full_build(rec)  # a catalogue of one article: a build with one empty list
    assert report.articles == 1
    with factory() as session:
        with pytest.raises(ValueError, match="needs a title or a body"):
            rec.preview(session, Draft(title="  ", body="\n\t"), 3)
        huge = rec.preview(session, Draft(title="Long", body="word " * 200_000), 3)
        assert huge.items == []
    engine.dispose()
