"""The ranking context: what every page's ranking reads."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session, sessionmaker

from recommender.catalog.items import Curations
from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.ranking.context import RankingContext
from recommender.ranking.policy import RankingPolicy


def test_tag_weights_come_from_the_serving_build(
        demo: tuple[Recommender, sessionmaker[Session]]) -> None:
    rec, factory = demo
    with factory() as session:
        before = RankingContext(rec._space(session), {}, Curations(), {}, RankingPolicy(), 6)
    assert before.tag_idf == {}  # no build yet: every tag weighs 1 (formulas.tag_slots)
    full_build(rec)
    with factory() as session:
        after = RankingContext(rec._space(session), {}, Curations(), {}, RankingPolicy(), 6)
    build = rec.builds.get()
    assert build is not None and after.tag_idf == build.tag_idf and len(after.tag_idf) > 0
    assert after.below_cut == 5  # editors see five past the cut unless told otherwise
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.k = 3  # type: ignore[misc]
