"""Synthetic catalogues for benchmarks: Zipf-distributed words and clustered unit vectors.

Real text is needed past the encoder only for the lexical signal; clustered vectors make
approximate search behave like real embeddings (random vectors are its worst case).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from recommender.catalog.articles import ArticleInput
from recommender.catalog.storing import upsert_articles
from recommender.storage.schema import Article, Embedding, utcnow

SECTIONS = ["Asia", "Europe", "Americas", "Middle East", "Africa", "Global", "Economy", "Security"]
TYPES = ["news", "news", "news", "analysis", "opinion", "review", "evergreen"]


def articles(n: int, *, seed: int = 7, topics: int = 200, words: int = 160) -> list[ArticleInput]:
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(20_000)]
    zipf = 1.0 / np.arange(1, len(vocab) + 1)
    cdf = np.cumsum(zipf / zipf.sum())
    start = datetime(2023, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        topic = int(rng.integers(topics))
        topic_words = [f"t{topic}_{j}" for j in rng.integers(0, 40, size=words // 4)]
        picks = np.searchsorted(cdf, rng.random(words - len(topic_words)))
        common = [vocab[min(j, len(vocab) - 1)] for j in picks]
        body = " ".join([*topic_words, *common])
        out.append(ArticleInput(
            external_id=f"syn-{i}", url=f"https://bench.example/{i}", title=f"Story {i} on t{topic}",
            dek=f"Dek of story {i}", body=body, authors=[f"Author {rng.integers(50)}"],
            tags=[f"topic-{topic}", f"tag-{rng.integers(300)}"], section=SECTIONS[topic % 8],
            content_type=TYPES[i % len(TYPES)], language="en", status="published",
            published_at=start + timedelta(minutes=int(rng.integers(0, 60 * 24 * 1000))),
            updated_at=None, image=None))
    return out


def vectors(n: int, dim: int = 384, *, seed: int = 7, topics: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    centres = rng.normal(size=(topics, dim)).astype(np.float32)
    labels = np.random.default_rng(seed).integers(topics, size=n)  # not the article topics: fine
    out = centres[labels] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def load(session: Session, n: int, model_id: str, dim: int = 384) -> None:
    """Insert n synthetic articles and their (synthetic) vectors for ``model_id``."""
    items = articles(n)
    for start in range(0, n, 5000):
        upsert_articles(session, items[start:start + 5000])
        session.commit()
    rows = session.execute(select(Article.id, Article.content_hash).order_by(Article.id)).all()
    vecs = vectors(len(rows), dim)
    now = utcnow()
    payload = [{"article_id": r.id, "model_id": model_id, "content_hash": r.content_hash,
                "dimension": dim, "vector": vecs[i].tobytes(), "created": now}
               for i, r in enumerate(rows)]
    for start in range(0, len(payload), 5000):
        session.execute(insert(Embedding), payload[start:start + 5000])
    session.commit()
