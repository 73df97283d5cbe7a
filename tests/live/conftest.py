"""Fixtures of the live tests: the built demo magazine with the encoder it was built with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage.engine import make_engine, make_session_factory
from tests.helpers.fakes import FakeEncoder


@pytest.fixture
def demo(demo_settings: Settings) -> Iterator[tuple[Recommender, sessionmaker[Session], FakeEncoder]]:
    """A private copy of the built demo magazine (SQLite) and a Recommender over it whose fake
    encoder is the one the demo was built with."""
    engine = make_engine(demo_settings.database_url)
    factory = make_session_factory(engine)
    encoder = FakeEncoder()
    yield Recommender(demo_settings, factory, encoder=encoder), factory, encoder
    engine.dispose()
