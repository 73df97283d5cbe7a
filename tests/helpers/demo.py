"""The demo magazine loaded into a test database, and the origin the widget tests embed it from."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from recommender.catalog.importing import import_file
from recommender.cli.main import DEMO_DIR
from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage import migrations
from recommender.storage.engine import make_engine, make_session_factory
from tests.helpers.fakes import FakeEncoder

WIDGET_ORIGIN = "https://reader.example"


def load_demo(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate and import the bundled demo magazine; the caller disposes of the engine."""
    migrations.upgrade(settings.database_url)
    eng = make_engine(settings.database_url)
    factory = make_session_factory(eng)
    with factory() as sess:
        for path in sorted(DEMO_DIR.glob("*.jsonl")):
            import_file(sess, path)
        sess.commit()
    return eng, factory


def build_demo(settings: Settings) -> None:
    """The demo magazine imported and built with the fake encoder (no model)."""
    eng, factory = load_demo(settings)
    try:
        full_build(Recommender(settings, factory, encoder=FakeEncoder()))
    finally:
        eng.dispose()
