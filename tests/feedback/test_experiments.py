"""Starting, assigning, analysing and ending experiments; promotion and the audit log."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.feedback import experiments
from recommender.feedback.events import parse_batch, store
from recommender.feedback.experiments import ExperimentError, arm_names, assign
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.saved import latest_saved, save_policy
from recommender.storage.schema import AuditEntry
from tests.helpers.feedback import add_articles, batch, click, impression, token


def _policies(session: Session) -> tuple[int, int]:
    a = save_policy(session, RankingPolicy(), actor="ed")
    b = save_policy(session, replace(RankingPolicy(), mmr_lambda=0.7), actor="ed")
    return a.id, b.id


def test_assignment_is_deterministic_and_follows_the_split() -> None:
    arms = Counter(assign("t1", 0.3, f"page-{i}") for i in range(4000))
    assert abs(arms["t1-b"] / 4000 - 0.3) < 0.03
    assert all(assign("t1", 0.3, f"page-{i}") == assign("t1", 0.3, f"page-{i}") for i in range(50))
    assert arm_names("t1") == ("t1-a", "t1-b")


def test_start_checks_and_audits(session: Session) -> None:
    a, b = _policies(session)
    with pytest.raises(ExperimentError, match="two different"):
        experiments.start(session, name="x", policy_a=a, policy_b=a, split=0.5, actor="ed")
    with pytest.raises(ExperimentError, match="between 0 and 1"):
        experiments.start(session, name="x", policy_a=a, policy_b=b, split=1.0, actor="ed")
    with pytest.raises(ExperimentError, match="lower-case"):
        experiments.start(session, name="Bad Name", policy_a=a, policy_b=b, split=0.5, actor="ed")
    with pytest.raises(ExperimentError, match="no saved ranking policy #999"):
        experiments.start(session, name="x", policy_a=a, policy_b=999, split=0.5, actor="ed")
    started = experiments.start(session, name="mmr", policy_a=a, policy_b=b, split=0.5, actor="ed")
    assert experiments.running(session) is not None
    with pytest.raises(ExperimentError, match="still running"):
        experiments.start(session, name="other", policy_a=a, policy_b=b, split=0.5, actor="ed")
    actions = list(session.scalars(select(AuditEntry.action)))
    assert "experiment-start" in actions and started.status == "running"


def test_end_promotes_a_significant_winner(session: Session) -> None:
    ids = add_articles(session, 40)
    a, b = _policies(session)
    experiment = experiments.start(session, name="t2", policy_a=a, policy_b=b, split=0.5,
                                   actor="ed")
    for page in ids[:30]:
        arm = assign("t2", 0.5, page)
        for view_number in range(10):
            view = token()
            events = [impression(page, ids[30:33], view, arm)]
            if (arm.endswith("-b") and view_number < 6) or (arm.endswith("-a") and view_number < 1):
                events.append(click(page, ids[31], 2, view, arm))
            store(session, parse_batch(batch(*events)))
    session.commit()
    result = experiments.analyse(session, experiment)
    assert result.winner == "b" and result.b.ctr > result.a.ctr
    assert result.a.pages + result.b.pages == 30
    outcome = experiments.end(session, experiment, actor="ed", promote=True)
    assert outcome["winner"] == "b" and outcome["promoted_policy"] is not None
    promoted = latest_saved(session)
    assert promoted is not None and promoted.policy["mmr_lambda"] == 0.7
    assert experiments.running(session) is None and experiment.status == "ended"
    with pytest.raises(ExperimentError, match="already ended"):
        experiments.end(session, experiment, actor="ed", promote=False)
    actions = list(session.scalars(select(AuditEntry.action)))
    assert "experiment-end" in actions and actions.count("policy-save") == 3


def test_end_without_a_winner_promotes_nothing(session: Session) -> None:
    add_articles(session, 3)
    a, b = _policies(session)
    experiment = experiments.start(session, name="t3", policy_a=a, policy_b=b, split=0.5,
                                   actor="ed")
    outcome = experiments.end(session, experiment, actor="ed", promote=True)
    assert outcome["winner"] is None and outcome["promoted_policy"] is None
    assert latest_saved(session).id == b  # type: ignore[union-attr]
