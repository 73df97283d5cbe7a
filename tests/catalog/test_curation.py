"""Pins, blocks and site-wide blocks through the library: the reader's list changes at once, expired
rules stop applying, and every change writes its audit entry in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from recommender.catalog import curation
from recommender.jobs.build import build_policy
from recommender.ranking import saved
from recommender.ranking.policy import RankingPolicy
from recommender.readers import related_for
from recommender.settings import Settings
from recommender.storage.schema import Article, AuditEntry, Curation, RelatedItem, SavedPolicy, utcnow


def _articles(session: Session, n: int = 6) -> list[Article]:
    published = utcnow() - timedelta(days=1)
    rows = [Article(external_id=f"a{i}", url=f"https://site.example/{i}", title=f"Article {i}",
                    body="text", status="published", published_at=published,
                    content_hash=f"{i:064d}") for i in range(n)]
    session.add_all(rows)
    session.flush()
    # a stored list for a0: a1..a4 in order, as a build would leave it
    session.add_all(RelatedItem(article_id=rows[0].id, target_id=rows[i].id, position=i,
                                score=1 - i / 10, build_id="b1") for i in range(1, 5))
    session.commit()
    return rows


def _shown(session: Session, page: Article, k: int = 3) -> list[str]:
    return [t.id for t in related_for(session, page, k).items]


def test_pin_puts_an_item_at_its_position_and_changes_the_etag(session: Session) -> None:
    a = _articles(session)
    before = related_for(session, a[0], 3)
    assert [t.id for t in before.items] == ["a1", "a2", "a3"]
    curation.pin(session, actor="ada", article_id=a[0].id, target_id=a[5].id, position=1,
                 reason="editor's pick")
    after = related_for(session, a[0], 3)
    assert [t.id for t in after.items] == ["a5", "a1", "a2"]
    assert after.items[0].pinned and after.etag != before.etag
    entry = session.query(AuditEntry).one()
    assert (entry.actor, entry.action, entry.article_id, entry.target_id, entry.reason) == \
        ("ada", "pin", a[0].id, a[5].id, "editor's pick")
    assert entry.details["position"] == 1


def test_pinning_again_replaces_the_earlier_pin(session: Session) -> None:
    a = _articles(session)
    curation.pin(session, actor="ada", article_id=a[0].id, target_id=a[5].id, position=1)
    curation.pin(session, actor="ada", article_id=a[0].id, target_id=a[5].id, position=2)
    assert session.query(Curation).count() == 1
    assert _shown(session, a[0]) == ["a1", "a5", "a2"]


def test_block_for_one_page_and_everywhere(session: Session) -> None:
    a = _articles(session)
    curation.block(session, actor="ada", article_id=a[0].id, target_id=a[1].id, reason="stale")
    assert _shown(session, a[0]) == ["a2", "a3", "a4"]
    curation.block_everywhere(session, actor="bob", target_id=a[2].id, reason="legal takedown")
    assert _shown(session, a[0]) == ["a3", "a4"]
    actions = [e.action for e in session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == ["block", "block-site-wide"]


def test_a_site_wide_block_needs_a_reason(session: Session) -> None:
    """Issue #17 item 10: the editors' form requires one, and so does the library behind it."""
    a = _articles(session)
    for reason in ("", "  \n "):
        with pytest.raises(curation.CurationError, match="needs a reason"):
            curation.block_everywhere(session, actor="bob", target_id=a[2].id, reason=reason)
    assert session.query(Curation).count() == 0


def test_expired_rules_stop_applying(session: Session) -> None:
    a = _articles(session)
    rule = curation.block(session, actor="ada", article_id=a[0].id, target_id=a[1].id,
                          expires_at=utcnow() + timedelta(hours=1))
    assert "a1" not in _shown(session, a[0])
    rule.expires_at = utcnow() - timedelta(seconds=1)  # time passes
    session.commit()
    assert _shown(session, a[0]) == ["a1", "a2", "a3"]
    assert [r.active for r in curation.rules_for(session, a[0].id)] == [False]


def test_remove_deletes_the_rule_and_audits_what_it_was(session: Session) -> None:
    a = _articles(session)
    rule = curation.pin(session, actor="ada", article_id=a[0].id, target_id=a[5].id, position=2)
    curation.remove(session, actor="bob", rule_id=rule.id, reason="campaign over")
    assert _shown(session, a[0]) == ["a1", "a2", "a3"]
    last = session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    assert last is not None and last.action == "remove" and last.actor == "bob"
    assert last.details["kind"] == "pin" and last.details["position"] == 2
    assert [e.action for e in curation.audit_log(session, article_id=a[0].id)] == ["remove", "pin"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"target_id": 0}, "self"), ({"position": 0}, "position"), ({"position": 13}, "position"),
    ({"expires_at": "past"}, "future"), ({"target_id": 999_999}, "no target")])
def test_bad_rules_change_nothing(session: Session, kwargs: dict[str, object],
                                  message: str) -> None:
    a = _articles(session)
    args: dict[str, object] = {"actor": "ada", "article_id": a[0].id, "target_id": a[5].id,
                               "position": 1}
    args.update(kwargs)
    if args["target_id"] == 0:
        args["target_id"] = a[0].id
    if args.get("expires_at") == "past":
        args["expires_at"] = utcnow() - timedelta(minutes=1)
    with pytest.raises(curation.CurationError, match=message):
        curation.pin(session, **args)  # type: ignore[arg-type]
    session.rollback()
    assert session.query(Curation).count() == 0 and session.query(AuditEntry).count() == 0


def test_remove_of_an_unknown_rule_is_an_error(session: Session) -> None:
    with pytest.raises(curation.CurationError):
        curation.remove(session, actor="ada", rule_id=12345)


# -- the saved ranking policy -----------------------------------------------------------------------

def test_current_policy_is_the_newest_saved_else_the_settings(session: Session) -> None:
    settings = Settings()
    assert build_policy(session, settings) == settings.ranking
    saved.save_policy(session, RankingPolicy(semantic_weight=0.5), actor="ada", note="try")
    saved.save_policy(session, RankingPolicy(semantic_weight=0.6), actor="bob")
    assert build_policy(session, settings).semantic_weight == 0.6
    assert session.query(SavedPolicy).count() == 2
    entry = session.query(AuditEntry).order_by(AuditEntry.id).first()
    assert entry is not None and entry.action == "policy-save" and entry.reason == "try"
    session.add(SavedPolicy(policy={"no_such_weight": 1}, created_by="x"))
    session.commit()
    assert build_policy(session, settings) == settings.ranking  # unreadable: fall back
