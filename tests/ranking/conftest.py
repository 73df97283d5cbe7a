"""Fixtures of the ranking tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from recommender.live.recommender import Recommender
from recommender.settings import Settings
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Recommender, sessionmaker[Session]]]:
    """The demo magazine imported (not built) and a Recommender with the fake encoder."""
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    yield Recommender(settings, factory, encoder=FakeEncoder()), factory
    engine.dispose()
