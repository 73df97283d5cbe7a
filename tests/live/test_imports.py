"""Imported articles get their related lists at import time (``live.imports``), as published ones
do, once the catalogue has been built; before its first build nothing is loaded."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recommender.catalog.articles import parse_article
from recommender.catalog.storing import upsert_articles
from recommender.live.imports import has_build, refresh_after_import
from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage import migrations
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import RelatedItem
from tests.helpers.fakes import FakeEncoder

Demo = tuple[Recommender, sessionmaker[Session], FakeEncoder]


def test_an_imported_article_gets_its_list_now(demo: Demo) -> None:
    recommender, factory, encoder = demo
    with factory() as session:
        assert has_build(session)
        result = upsert_articles(session, [parse_article({
            "id": "imported-1", "url": "https://wire.example/imported", "title": "Refiners sign a "
            "rupee crude deal", "body": "Indian refiners signed contracts for Russian crude.",
            "published_at": "2025-12-08T09:00:00Z"})])
        session.commit()
        updated = refresh_after_import(recommender.settings, session, result.added, encoder=encoder)
        assert updated >= 1
        own = session.scalar(select(func.count()).select_from(RelatedItem).where(
            RelatedItem.article_id == result.added[0]))
        assert own and own > 0


def test_nothing_is_refreshed_before_the_first_build(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    migrations.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            result = upsert_articles(session, [parse_article(
                {"id": "a", "url": "https://x.example/a", "title": "A"})])
            session.commit()
            assert not has_build(session)
            # no encoder given: it would load the real model if it tried
            assert refresh_after_import(settings, session, result.added) == 0
            assert refresh_after_import(settings, session, []) == 0
    finally:
        engine.dispose()
