"""The embeddings cache, on SQLite and PostgreSQL: a vector is valid for one model while its
article's content hash is unchanged; missing or stale ones are embedded (and, with
``commit_batches``, kept when a later batch fails); current ones load ordered by article id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recommender.embedding.cache import (
    embed_missing,
    load_vectors,
    stale_articles,
    stale_ids,
    store_vectors,
)
from recommender.embedding.encoder import Vectors
from recommender.embedding.representation import embed_texts
from recommender.storage.schema import Article, Embedding
from tests.helpers.fakes import FakeEncoder


def _articles(session: Session, n: int) -> list[Article]:
    rows = [Article(external_id=f"a{i}", url=f"https://site.example/{i}", title=f"Story {i}",
                    body=f"words about topic {i}", content_hash=f"hash-{i}") for i in range(n)]
    session.add_all(rows)
    session.flush()
    return rows


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Embedding)) or 0


class FailingEncoder(FakeEncoder):
    """Fails on its ``fail_on``-th batch, as a killed or crashing run would."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on

    def encode(self, texts: Sequence[str]) -> Vectors:
        if self.calls + 1 == self.fail_on:
            raise RuntimeError("encoder crashed")
        return super().encode(texts)


def test_missing_then_current_then_stale_by_content_hash(session: Session) -> None:
    a = _articles(session, 3)
    assert [x.id for x in stale_articles(session, "m")] == [x.id for x in a]
    report = embed_missing(session, FakeEncoder(model_id="m"))
    assert (report.embedded, report.skipped) == (3, 0)
    assert stale_articles(session, "m") == []
    a[1].content_hash = "edited"
    session.flush()
    assert stale_articles(session, "m") == [a[1]]
    again = embed_missing(session, FakeEncoder(model_id="m"), article_ids=[x.id for x in a])
    assert (again.embedded, again.skipped) == (1, 2)
    assert _count(session) == 3  # replaced, not added beside the stale one
    row = session.scalars(select(Embedding).where(Embedding.article_id == a[1].id)).one()
    assert row.content_hash == "edited"


def test_a_vector_is_valid_only_for_the_backend_that_made_it(session: Session) -> None:
    """#14: torch and int8 ONNX vectors are close, not equal; one replaces the other, never both."""
    a = _articles(session, 3)
    embed_missing(session, FakeEncoder(model_id="m"))
    assert set(session.scalars(select(Embedding.backend))) == {"torch"}  # the column's default
    assert [x.id for x in stale_articles(session, "m", backend="onnx-int8")] == [x.id for x in a]
    report = embed_missing(session, FakeEncoder(model_id="m", backend="onnx-int8"),
                           article_ids=[a[0].id])
    assert report.embedded == 1 and _count(session) == 3  # replaced in place
    assert list(load_vectors(session, "m", backend="onnx-int8")[0]) == [a[0].id]
    assert list(load_vectors(session, "m")[0]) == [a[1].id, a[2].id]
    assert [x.id for x in stale_articles(session, "m")] == [a[0].id]
    assert stale_ids(session, "m") == [a[0].id]  # ids only, the same rule
    assert stale_ids(session, "m", backend="onnx-int8") == [a[1].id, a[2].id]


def test_each_model_has_its_own_vectors(session: Session) -> None:
    a = _articles(session, 2)
    embed_missing(session, FakeEncoder(model_id="m"))
    assert [x.id for x in stale_articles(session, "other")] == [x.id for x in a]
    embed_missing(session, FakeEncoder(dimension=8, model_id="other"))
    _, m = load_vectors(session, "m")
    _, other = load_vectors(session, "other")
    assert m.shape == (2, 64) and other.shape == (2, 8)  # never mixed in one matrix
    assert _count(session) == 4


def test_only_the_articles_asked_for(session: Session) -> None:
    a = _articles(session, 4)
    assert [x.id for x in stale_articles(session, "m", [a[3].id, a[1].id])] == [a[1].id, a[3].id]
    progress: list[int] = []
    report = embed_missing(session, FakeEncoder(model_id="m"), article_ids=[a[1].id, a[3].id],
                           batch_size=1, progress=progress.append)
    assert report.embedded == 2 and progress == [1, 1]
    assert list(load_vectors(session, "m")[0]) == [a[1].id, a[3].id]


def test_the_vectors_are_the_encoders_of_the_articles_text(session: Session) -> None:
    a = _articles(session, 3)
    encoder = FakeEncoder(model_id="m")
    embed_missing(session, encoder, batch_size=2)
    assert encoder.calls == 2  # batches of two: 2 + 1
    ids, vectors = load_vectors(session, "m")
    expected = embed_texts(FakeEncoder(), [(x.title, x.dek, x.body) for x in a])
    assert list(ids) == [x.id for x in a] and ids.dtype == np.int64
    assert vectors.dtype == np.float32 and np.array_equal(vectors, expected)
    assert vectors.flags.writeable  # a copy, not a view of the fetched bytes


@pytest.mark.parametrize("commit_batches", [True, False])
def test_a_failed_run_keeps_the_committed_batches_only_when_asked(
        session: Session, commit_batches: bool) -> None:
    _articles(session, 5)
    session.commit()
    with pytest.raises(RuntimeError, match="encoder crashed"):
        embed_missing(session, FailingEncoder(fail_on=2), batch_size=2,
                      commit_batches=commit_batches)
    session.rollback()
    kept = 2 if commit_batches else 0
    assert _count(session) == kept
    report = embed_missing(session, FakeEncoder())  # the next run resumes where it stopped
    assert report.embedded == 5 - kept


def test_load_skips_stale_vectors_and_filters_by_id_and_time(session: Session) -> None:
    a = _articles(session, 4)
    store_vectors(session, "m", list(reversed(a)), FakeEncoder().encode(["x", "y", "z", "w"]))
    session.execute(update(Embedding).where(Embedding.article_id.in_([a[0].id, a[1].id]))
                    .values(created=datetime(2025, 1, 1, tzinfo=UTC)))
    session.execute(update(Embedding).where(Embedding.article_id.in_([a[2].id, a[3].id]))
                    .values(created=datetime(2025, 6, 1, tzinfo=UTC)))
    a[3].content_hash = "edited since"
    session.flush()
    ids, vectors = load_vectors(session, "m")
    assert list(ids) == [a[0].id, a[1].id, a[2].id]  # by article id, whatever the insert order
    assert vectors.shape == (3, 64)
    assert list(load_vectors(session, "m", [a[2].id, a[0].id])[0]) == [a[0].id, a[2].id]
    after = load_vectors(session, "m", created_after=datetime(2025, 6, 1, tzinfo=UTC))[0]
    assert list(after) == [a[2].id]  # from that moment on, inclusive
    none_ids, none = load_vectors(session, "nobody")
    assert none_ids.shape == (0,) and none.shape == (0, 0) and none.dtype == np.float32
