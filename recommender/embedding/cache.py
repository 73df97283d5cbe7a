"""The embedding cache: one vector per (article, model), valid while its content hash matches.

This is what makes the nightly job incremental: unchanged text is never embedded again, and a
model change re-embeds everything instead of mixing two models in one index. The same holds for
the encoder backend (#14): a vector is valid only for the backend that made it (``backend``), so a
switch between torch and onnx-int8 re-embeds rather than mixing near-but-not-equal vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recommender.embedding.backends import TORCH, backend_of
from recommender.embedding.encoder import Encoder, Vectors
from recommender.embedding.representation import embed_texts
from recommender.storage.schema import Article, Embedding, utcnow

Progress = Callable[[int], None]


@dataclass(frozen=True)
class EmbedReport:
    embedded: int
    skipped: int


def stale_articles(session: Session, model_id: str, article_ids: Sequence[int] | None = None,
                   *, backend: str = TORCH) -> list[Article]:
    """Articles with no embedding for this model, one computed from older text, or one another
    encoder backend made."""
    return list(session.scalars(_stale(select(Article), model_id, article_ids, backend)))


def stale_ids(session: Session, model_id: str, article_ids: Sequence[int] | None = None,
              *, backend: str = TORCH) -> list[int]:
    """The ids of ``stale_articles`` (a large cold catalogue: ids only, not every text)."""
    return list(session.scalars(_stale(select(Article.id), model_id, article_ids, backend)))


def _stale(query: Any, model_id: str, article_ids: Sequence[int] | None, backend: str) -> Any:
    query = (query
             .outerjoin(Embedding, (Embedding.article_id == Article.id)
                        & (Embedding.model_id == model_id))
             .where((Embedding.id.is_(None)) | (Embedding.content_hash != Article.content_hash)
                    | (Embedding.backend != backend))
             .order_by(Article.id))
    if article_ids is not None:
        query = query.where(Article.id.in_(list(article_ids)))
    return query


def embed_missing(session: Session, encoder: Encoder, *, article_ids: Sequence[int] | None = None,
                  batch_size: int = 64, progress: Progress | None = None,
                  commit_batches: bool = False) -> EmbedReport:
    """Embed every article whose cached vector is missing or stale; returns how many.

    With ``commit_batches`` each batch is committed as it finishes, so a killed run keeps the
    vectors already paid for and the next run resumes where it stopped.
    """
    backend = backend_of(encoder)
    todo = stale_ids(session, encoder.model_id, article_ids, backend=backend)
    total = 0
    for start in range(0, len(todo), batch_size):  # texts read a batch at a time
        batch = list(session.scalars(select(Article).where(
            Article.id.in_(todo[start:start + batch_size])).order_by(Article.id)))
        vectors = embed_texts(encoder, [(a.title, a.dek, a.body) for a in batch])
        store_vectors(session, encoder.model_id, batch, vectors, backend=backend)
        if commit_batches:
            session.commit()
        total += len(batch)
        if progress:
            progress(len(batch))
    checked = len(article_ids) if article_ids is not None else total
    return EmbedReport(embedded=total, skipped=max(0, checked - total))


def store_vectors(session: Session, model_id: str, articles: Sequence[Article],
                  vectors: Vectors, *, backend: str = TORCH) -> None:
    ids = [a.id for a in articles]
    session.execute(delete(Embedding).where(Embedding.model_id == model_id,
                                            Embedding.article_id.in_(ids)))
    session.add_all(
        Embedding(article_id=a.id, model_id=model_id, content_hash=a.content_hash,
                  dimension=int(v.shape[0]), vector=np.asarray(v, dtype=np.float32).tobytes(),
                  created=utcnow(), backend=backend)
        for a, v in zip(articles, vectors, strict=True)
    )
    session.flush()


def load_vectors(session: Session, model_id: str, article_ids: Iterable[int] | None = None, *,
                 created_after: datetime | None = None, backend: str = TORCH
                 ) -> tuple[np.ndarray, Vectors]:
    """(article ids, matrix) of current embeddings for this model and backend, by article id."""
    query = (select(Embedding.article_id, Embedding.vector, Embedding.dimension)
             .join(Article, Article.id == Embedding.article_id)
             .where(Embedding.model_id == model_id, Embedding.backend == backend,
                    Embedding.content_hash == Article.content_hash)
             .order_by(Embedding.article_id))
    if article_ids is not None:
        query = query.where(Embedding.article_id.in_(list(article_ids)))
    if created_after is not None:
        query = query.where(Embedding.created >= created_after)
    rows = session.execute(query).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return ids, matrix.reshape(len(rows), rows[0][2]).copy()
