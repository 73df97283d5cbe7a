"""Lists per arm: during an experiment each page's stored list is its arm's policy's list, and a
served list is labelled with the arm of the build it came from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.feedback import experiments
from recommender.feedback.arms import arm_for
from recommender.jobs.build import full_build
from recommender.jobs.reindex import plan
from recommender.live.recommender import Recommender
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.saved import save_policy
from recommender.settings import Settings
from recommender.storage.schema import Article, IndexBuild, RelatedItem
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


def _lists(session: Session) -> dict[str, list[int]]:
    external = {i: e for i, e in session.execute(select(Article.id, Article.external_id))}
    lists: dict[str, list[int]] = defaultdict(list)
    for page, target in session.execute(select(RelatedItem.article_id, RelatedItem.target_id)
                                        .order_by(RelatedItem.article_id, RelatedItem.position)):
        lists[external[page]].append(target)
    return dict(lists)


def test_each_page_gets_its_arms_list(tmp_path: Path) -> None:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    b_policy = replace(RankingPolicy(), semantic_weight=0.1, lexical_weight=0.1, tag_weight=1.0,
                       mmr_lambda=0.5)
    with factory() as session:
        a = save_policy(session, settings.ranking, actor="ed").id
        b = save_policy(session, b_policy, actor="ed").id
        save_policy(session, settings.ranking, actor="ed")  # A stays the current policy
    rec = Recommender(settings, factory, encoder=FakeEncoder())
    full_build(rec)
    with factory() as session:
        only_a = _lists(session)
        experiments.start(session, name="tags", policy_a=a, policy_b=b, split=0.5, actor="ed")
        assert plan(session, rec, full=False)[0] == "build"  # the lists must follow the arms
    report = full_build(rec)
    with factory() as session:
        served = _lists(session)
        build = session.get(IndexBuild, report.build_id)
        assert build is not None and build.stats["experiment"]["name"] == "tags"
        arms = {page: experiments.assign("tags", 0.5, page) for page in served}
        assert set(arms.values()) == {"tags-a", "tags-b"}
        assert build.stats["experiment"]["pages"]["tags-b"] == sum(
            1 for arm in arms.values() if arm == "tags-b")
        for page, arm in arms.items():
            assert arm_for(session, report.build_id, page) == arm
            if arm == "tags-a":
                assert served[page] == only_a[page]
        assert any(served[p] != only_a[p] for p, arm in arms.items() if arm == "tags-b")
        assert plan(session, rec, full=False)[0] == "unchanged"  # built for this experiment
        assert arm_for(session, "no-such-build", "demo-001") == "default"
    engine.dispose()
