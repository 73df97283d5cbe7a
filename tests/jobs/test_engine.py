"""The local engine: what run_build did itself before engines, and the reference the Ray engine
must equal (tests/jobs/test_ray_engine.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from recommender import exits
from recommender.jobs.build import full_build
from recommender.jobs.engine import EngineUnavailable, LocalEngine
from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage.schema import Embedding, RelatedItem
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


def test_the_local_engine_is_the_default_build(tmp_path: Path) -> None:
    lists = []
    for name, engine in (("default", None), ("local", LocalEngine())):
        settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / name)})
        db, factory = load_demo(settings)
        report = full_build(Recommender(settings, factory, encoder=FakeEncoder()), engine=engine)
        assert (report.embedded, report.lists) == (86, 84)
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(Embedding)) == 86
            lists.append([(r.article_id, r.target_id, r.position, r.score) for r in
                          session.scalars(select(RelatedItem).order_by(RelatedItem.article_id,
                                                                       RelatedItem.position))])
        db.dispose()
    assert lists[0] and lists[0] == lists[1]


def test_an_unavailable_engine_carries_its_exit_code() -> None:
    assert EngineUnavailable("down").exit_code == exits.FAILED
    assert EngineUnavailable("not installed", exits.USAGE).exit_code == exits.USAGE
