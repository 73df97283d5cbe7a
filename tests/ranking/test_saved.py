"""Saved ranking policies: a saved policy that no longer validates is never a silent fallback.

The build still ranks (with the settings' policy) so the nightly job does not stop, but the
fallback is logged with the saved policy's id and error, and ``policy_status`` reports it for the
editors' pages (tests/web/test_editor.py checks the banner).
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.orm import Session

from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.ranking import saved
from recommender.ranking.policy import RankingPolicy
from recommender.settings import Settings
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import SavedPolicy
from tests.helpers.fakes import FakeEncoder

SETTINGS_POLICY = RankingPolicy(semantic_weight=0.7)


def _store_broken(session: Session) -> int:
    """A policy saved by an older version, with a field this one no longer has."""
    record = SavedPolicy(policy={"semantic_weight": 0.8, "retired_weight": 1}, created_by="ada")
    session.add(record)
    session.commit()
    return record.id


def test_status_without_any_saved_policy(session: Session) -> None:
    status = saved.policy_status(session, SETTINGS_POLICY)
    assert status.policy == SETTINGS_POLICY and status.saved_id is None
    assert status.broken_id is None and status.problem == ""


def test_status_of_a_valid_saved_policy(session: Session) -> None:
    record = saved.save_policy(session, RankingPolicy(semantic_weight=0.5), actor="ada")
    status = saved.policy_status(session, SETTINGS_POLICY)
    assert status.policy.semantic_weight == 0.5 and status.saved_id == record.id
    assert status.problem == ""


def test_a_broken_saved_policy_falls_back_to_the_settings_and_says_why(session: Session) -> None:
    saved.save_policy(session, RankingPolicy(semantic_weight=0.5), actor="ada")
    broken = _store_broken(session)
    status = saved.policy_status(session, SETTINGS_POLICY)
    # The newest saved policy is the editors' intent: not an older one, but the settings'.
    assert status.policy == SETTINGS_POLICY and status.saved_id is None
    assert status.broken_id == broken and "retired_weight" in status.error
    assert f"#{broken} no longer validates" in status.problem
    assert "retired_weight" in status.problem and "RELATED_RANKING_" in status.problem


@pytest.mark.parametrize("stored", [{"semantic_weight": -1}, {"semantic_weight": "heavy"},
                                    {"half_life_days": 3}])
def test_bad_values_are_broken_policies_too(session: Session, stored: dict[str, object]) -> None:
    session.add(SavedPolicy(policy=stored, created_by="ada"))
    session.commit()
    status = saved.policy_status(session, SETTINGS_POLICY)
    assert status.policy == SETTINGS_POLICY and status.broken_id is not None and status.error


def test_current_policy_logs_the_fallback(session: Session,
                                          caplog: pytest.LogCaptureFixture) -> None:
    broken = _store_broken(session)
    with caplog.at_level(logging.WARNING, logger="recommender.ranking.saved"):
        assert saved.current_policy(session, SETTINGS_POLICY) == SETTINGS_POLICY
    [record] = [r for r in caplog.records if r.name == "recommender.ranking.saved"]
    assert record.levelno == logging.WARNING
    assert f"#{broken}" in record.getMessage() and "retired_weight" in record.getMessage()


def test_a_valid_policy_logs_nothing(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    saved.save_policy(session, RankingPolicy(semantic_weight=0.5), actor="ada")
    with caplog.at_level(logging.DEBUG, logger="recommender.ranking.saved"):
        saved.current_policy(session, SETTINGS_POLICY)
    assert [r for r in caplog.records if r.name == "recommender.ranking.saved"] == []


def test_the_build_goes_on_with_the_settings_policy(demo_settings: Settings,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(demo_settings.database_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            saved.save_policy(session, RankingPolicy(semantic_weight=0.9), actor="ada")
            broken = _store_broken(session)
        recommender = Recommender(demo_settings, factory, encoder=FakeEncoder())
        with caplog.at_level(logging.WARNING, logger="recommender.ranking.saved"):
            report = full_build(recommender)
        build = recommender.builds.get()
        assert build is not None and build.build_id == report.build_id
        assert RankingPolicy.from_dict(build.meta["policy"]) == demo_settings.ranking
        assert any(f"#{broken}" in r.getMessage() for r in caplog.records)
    finally:
        engine.dispose()
