"""The Recommender facade over the built demo (fake encoder): explaining a stored article's list,
previewing a draft without storing it, refreshing lists between builds, the writer lock it holds
for a whole transaction, and the policy it ranks with."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.embedding.encoder import BUNDLED_MODEL_ID, SentenceTransformerEncoder
from recommender.embedding.onnx_encoder import OnnxEncoder
from recommender.jobs.build import full_build
from recommender.live.recommender import Draft, Recommender
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.saved import save_policy
from recommender.readers import find_article
from recommender.storage.locks import LockBusy, file_lock
from recommender.storage.schema import Article, RelatedItem
from tests.helpers.fakes import FakeEncoder
from tests.helpers.sites import stored as _by_ext

Demo = tuple[Recommender, sessionmaker[Session], FakeEncoder]


def test_publish_and_withdraw_update_lists_without_rebuild(
        demo: tuple[Recommender, sessionmaker[Session], FakeEncoder]) -> None:
    rec, factory, _ = demo
    full_build(rec)
    with factory() as session:
        source, other = _by_ext(session, "demo-001"), _by_ext(session, "demo-040")
        half = source.body.split("\n\n")
        clone = Article(external_id="new-1", url="https://meridian.example/new-1",
                        title="After the summit: " + source.title, dek=other.dek,
                        body="\n\n".join(half[: len(half) // 2 + 1]) + "\n\n" + other.body,
                        authors=source.authors,
                        tags=source.tags, section=source.section,
                        content_type="analysis", status="published",
                        published_at=source.published_at, content_hash="x", word_count=300)
        session.add(clone)
        session.commit()
        report = rec.refresh(session, [clone.id])
        assert report.embedded == 1
        holders = set(session.scalars(select(RelatedItem.article_id)
                                      .where(RelatedItem.target_id == clone.id)))
        assert source.id in holders
        assert rec.related(session, find_article(session, external_id="new-1"), 3).items
        clone.status = "unpublished"
        session.commit()
        rec.refresh(session, [clone.id])
        assert not session.scalars(select(RelatedItem).where(
            (RelatedItem.target_id == clone.id) | (RelatedItem.article_id == clone.id))).all()


def test_explain_ranks_live_what_the_build_stored(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        page = _by_ext(session, "demo-001")
        stored = [row.target_id for row in session.scalars(
            select(RelatedItem).where(RelatedItem.article_id == page.id)
            .order_by(RelatedItem.position))]
        explanation = rec.explain(session, page, 6)
        assert [item.article_id for item in explanation.items] == stored[:6]
        assert explanation.build_id == rec.store.current_id()
        assert explanation.below_cut  # the next candidates, for editors
        assert {i.article_id for i in explanation.below_cut}.isdisjoint(stored[:6])
        for item in explanation.items:
            assert {"semantic", "lexical", "tags", "recency"} <= set(item.signals)
            assert item.article_id != page.id


def test_explain_follows_the_policy_it_is_given(demo: Demo) -> None:
    rec, factory, _ = demo
    with factory() as session:
        page = _by_ext(session, "demo-001")
        default = [i.article_id for i in rec.explain(session, page, 8).items]
        words_only = RankingPolicy(semantic_weight=0.0, lexical_weight=1.0, tag_weight=0.0,
                                   recency_weight=0.0)
        reranked = [i.article_id for i in rec.explain(session, page, 8, words_only).items]
        assert reranked != default
        save_policy(session, words_only, actor="ada")
        assert rec.policy(session) == words_only  # the editors' saved policy is the default now
        assert [i.article_id for i in rec.explain(session, page, 8).items] == reranked


def test_preview_ranks_a_draft_and_stores_nothing(demo: Demo) -> None:
    rec, factory, encoder = demo
    with factory() as session:
        source = _by_ext(session, "demo-001")
        before = session.execute(select(RelatedItem.id, RelatedItem.target_id)).all()
        articles = session.scalars(select(Article.id)).all()
        draft = Draft(title=source.title, body=source.body, tags=tuple(source.tags),
                      section=source.section)
        explanation = rec.preview(session, draft, 5)
        assert len(explanation.items) == 5 and explanation.build_id == rec.store.current_id()
        shared = [set(session.get(Article, i.article_id).tags) & set(source.tags)  # type: ignore[union-attr]
                  for i in explanation.items]
        assert all(shared), "a draft's list is about the draft"
        assert session.execute(select(RelatedItem.id, RelatedItem.target_id)).all() == before
        assert session.scalars(select(Article.id)).all() == articles
        calls = encoder.calls
        with pytest.raises(ValueError, match="needs a title or a body"):
            rec.preview(session, Draft(title=" <b> </b> ", body="\n\t"), 3)
        assert encoder.calls == calls  # refused before the model runs


def test_writing_is_reentrant_for_a_session_and_exclusive_across_them(demo: Demo) -> None:
    rec, factory, _ = demo
    lock = Path(rec.settings.index_dir) / "writer.lock"
    with factory() as session:
        with rec.writing(session), rec.writing(session):  # nested: no self-deadlock
            with pytest.raises(LockBusy), file_lock(lock, blocking=False):
                pass
            page = _by_ext(session, "demo-002")
            rec.refresh(session, [page.id])  # takes it again inside: still no deadlock
        with file_lock(lock, blocking=False):
            pass  # released with the outer block


def test_the_real_encoder_is_made_on_first_use_only(demo: Demo) -> None:
    rec, factory, _ = demo
    lazy = Recommender(rec.settings, factory)
    assert lazy._encoder is None
    encoder = lazy.encoder
    # RELATED_ENCODER_BACKEND=auto: int8 ONNX where the `fast` extra is installed (as in CI)
    assert isinstance(encoder, SentenceTransformerEncoder | OnnxEncoder) and lazy.encoder is encoder
    assert encoder.model_id == BUNDLED_MODEL_ID
