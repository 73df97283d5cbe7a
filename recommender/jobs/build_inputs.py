"""A build's inputs read from the database in batches: vectors into a mapped file, texts as a
stream, the catalogue's list rows through a spool file.

What made a 100,000-article build peak at 2.8 GB was holding everything at once: every vector
twice (the rows fetched, then the matrix), every text, every list row as a dict. Here vectors go
straight from the embeddings table into the build's ``raw.npy`` (mapped, space reserved first),
texts are read again for each pass of the lexical fit instead of kept, and list rows are pickled
block by block into a spool beside the build, read back by the bulk writer at the swap.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from recommender.embedding.backends import TORCH
from recommender.index.mapped import allocate
from recommender.ranking.lexical import lexical_text
from recommender.storage.bulk import Row
from recommender.storage.schema import Article, Embedding

IdArray = npt.NDArray[np.int64]
BATCH = 10_000
TEXT_BATCH = 1_000


def _current(model_id: str, backend: str) -> ColumnElement[bool]:
    return ((Embedding.model_id == model_id) & (Embedding.content_hash == Article.content_hash)
            & (Embedding.backend == backend))


def write_vectors(session: Session, model_id: str, path: Path, dimension: int, *,
                  backend: str = TORCH, progress: Callable[[int], None] | None = None,
                  batch: int = BATCH) -> tuple[IdArray, np.memmap[Any, Any]]:
    """Every current embedding of ``model_id`` made by ``backend`` (ordered by article id)
    written to a new mapped ``.npy`` at ``path``, a batch of rows at a time; returns (article
    ids, the mapped matrix)."""
    count = session.scalar(select(func.count()).select_from(Embedding)
                           .join(Article, Article.id == Embedding.article_id)
                           .where(_current(model_id, backend))) or 0
    matrix = allocate(path, (count, dimension))
    ids = np.zeros(count, dtype=np.int64)
    filled, last = 0, -1
    while filled < count:
        rows = session.execute(
            select(Embedding.article_id, Embedding.vector)
            .join(Article, Article.id == Embedding.article_id)
            .where(_current(model_id, backend), Embedding.article_id > last)
            .order_by(Embedding.article_id).limit(min(batch, count - filled))).all()
        if not rows:
            break  # some were deleted since the count
        block = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
        matrix[filled:filled + len(rows)] = block.reshape(len(rows), dimension)
        ids[filled:filled + len(rows)] = [r[0] for r in rows]
        filled, last = filled + len(rows), int(rows[-1][0])
        if progress:
            progress(len(rows))
    matrix.flush()
    if filled < count:  # rare: rewrite at the size actually read
        del matrix
        short = np.array(np.load(path, mmap_mode="r")[:filled])
        matrix = allocate(path, short.shape)
        matrix[:] = short
        ids = ids[:filled]
    return ids, matrix


def texts_of(session: Session, ids: IdArray, *, batch: int = TEXT_BATCH
             ) -> Callable[[], Iterator[str]]:
    """A source of the lexical texts of ``ids`` in order (fresh iterator per call): each pass
    reads them from the database a batch at a time; ``""`` for an article gone since."""

    def read() -> Iterator[str]:
        for start in range(0, len(ids), batch):
            wanted = [int(a) for a in ids[start:start + batch]]
            rows = session.execute(select(Article.id, Article.title, Article.dek, Article.body)
                                   .where(Article.id.in_(wanted)))
            texts = {r.id: lexical_text(r.title, r.dek, r.body) for r in rows}
            yield from (texts.get(a, "") for a in wanted)

    return read


class ListSpool:
    """The list rows of a build, block by block, in a file until the swap writes them."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "lists.pickle"
        self.rows = 0
        self._file = self.path.open("wb")

    def add(self, rows: Sequence[Row]) -> None:
        pickle.dump(list(rows), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows += len(rows)

    def close(self) -> None:
        self._file.close()

    def blocks(self) -> Iterator[list[Row]]:
        self.close()
        with self.path.open("rb") as fh:
            while True:
                try:
                    yield pickle.load(fh)  # our own spool, written just before
                except EOFError:
                    return
