"""List recall@10 against exact search: 1.0 for an exact build, measured for approximate ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from recommender.jobs.build import full_build
from recommender.jobs.recall import list_recall_at_10
from recommender.live.recommender import Recommender
from recommender.settings import Settings
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


def test_recall_of_exact_and_approximate_builds(tmp_path: Path) -> None:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    assert list_recall_at_10(factory, settings) is None  # no build yet
    full_build(Recommender(settings, factory, encoder=FakeEncoder()))
    assert list_recall_at_10(factory, settings, sample=30) == 1.0
    for approximate in ({"exact_index_max": 0}, {"exact_index_max": 0, "hnsw_index_max": 0}):
        other = dataclasses.replace(settings, **approximate)  # HNSW, then IVF
        full_build(Recommender(other, factory, encoder=FakeEncoder()), full=True)
        recall = list_recall_at_10(factory, other)
        assert recall is not None and 0.8 <= recall <= 1.0
    engine.dispose()
