"""End to end with the fake encoder: embed, build, precompute, serve."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from recommender.jobs.build import _mark_failed, full_build
from recommender.live.recommender import Recommender
from recommender.readers import find_article
from recommender.settings import Settings
from recommender.storage.schema import Article, Embedding, IndexBuild, RelatedItem
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Recommender, sessionmaker[Session], FakeEncoder]]:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    encoder = FakeEncoder()
    yield Recommender(settings, factory, encoder=encoder), factory, encoder
    engine.dispose()


def _by_ext(session: Session, ext: str) -> Article:
    return session.scalars(select(Article).where(Article.external_id == ext)).one()


def test_build_precomputes_safe_lists(demo: tuple[Recommender, sessionmaker[Session], FakeEncoder]
                                      ) -> None:
    rec, factory, _ = demo
    report = full_build(rec)
    assert report.articles == 86 and report.embedded == 86
    assert report.lists == 84
    with factory() as session:
        rows = session.scalars(select(RelatedItem)).all()
        assert rows
        live = {a.id for a in session.scalars(select(Article)) if a.is_live()}
        assert all(r.target_id in live and r.target_id != r.article_id for r in rows)
        draft, gone = _by_ext(session, "demo-086"), _by_ext(session, "demo-084")
        assert all(r.target_id not in (draft.id, gone.id) for r in rows)
        build = session.get(IndexBuild, report.build_id)
        assert build is not None and build.status == "ready"
        assert rec.store.current_id() == report.build_id
        page = find_article(session, external_id="demo-001")
        related = rec.related(session, page, 3)
        assert len(related.items) == 3
        assert related.build_id == report.build_id


def test_second_build_embeds_nothing(demo: tuple[Recommender, sessionmaker[Session], FakeEncoder]
                                     ) -> None:
    rec, factory, encoder = demo
    full_build(rec)
    before = encoder.texts_encoded
    report = full_build(rec)
    assert report.embedded == 0
    assert encoder.texts_encoded == before
    with factory() as session:
        article = _by_ext(session, "demo-010")
        article.body += " A new closing paragraph about tariffs."
        article.content_hash = "changed"
        session.commit()
    report = full_build(rec)
    assert report.embedded == 1
    assert len(list(rec.store.builds.iterdir())) == 3  # kept builds are pruned


def test_near_duplicate_update_is_not_recommended_on_its_original(
        demo: tuple[Recommender, sessionmaker[Session], FakeEncoder]) -> None:
    rec, factory, _ = demo
    full_build(rec)
    with factory() as session:
        original, update = _by_ext(session, "demo-044"), _by_ext(session, "demo-085")
        targets = {r.target_id for r in session.scalars(
            select(RelatedItem).where(RelatedItem.article_id == original.id))}
        assert update.id not in targets


def test_model_change_never_mixes_vectors(demo: tuple[Recommender, sessionmaker[Session],
                                                      FakeEncoder], tmp_path: Path) -> None:
    rec, factory, _ = demo
    full_build(rec)
    other = Recommender(rec.settings, factory, encoder=FakeEncoder(dimension=32, model_id="other"))
    report = full_build(other)
    assert report.embedded == 86
    build = other.builds.get()
    assert build is not None and build.meta["model_id"] == "other"
    assert build.meta["dimension"] == 32
    with factory() as session:
        models = set(session.scalars(select(Embedding.model_id)))
    assert models == {"fake-bow", "other"}


# -- recording a failed build --------------------------------------------------------------------

def test_a_failed_build_is_recorded_with_its_error(session: Session,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    session.add(IndexBuild(id="b-1", model_id="m", dimension=3))
    session.commit()
    with caplog.at_level(logging.WARNING, logger="recommender.jobs.build"):
        _mark_failed(session, "b-1", "encoder crashed")
    session.expire_all()
    record = session.get(IndexBuild, "b-1")
    assert record is not None and record.status == "failed"
    assert record.stats == {"error": "encoder crashed"}
    assert [r for r in caplog.records if r.name == "recommender.jobs.build"] == []


def test_a_build_that_cannot_be_recorded_as_failed_is_logged(
        session: Session, caplog: pytest.LogCaptureFixture) -> None:
    session.add(IndexBuild(id="b-2", model_id="m", dimension=3))
    session.commit()
    # The database refuses writes (a failover to a read-only replica, a full disk).
    read_only = {"sqlite": "PRAGMA query_only = ON", "postgresql": "SET TRANSACTION READ ONLY"}
    session.execute(text(read_only[session.get_bind().dialect.name]))
    with caplog.at_level(logging.WARNING, logger="recommender.jobs.build"):
        _mark_failed(session, "b-2", "encoder crashed")  # does not raise
    [logged] = [r for r in caplog.records if r.name == "recommender.jobs.build"]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert "b-2" in logged.getMessage() and "encoder crashed" in logged.getMessage()
