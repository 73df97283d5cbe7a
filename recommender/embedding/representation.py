"""What text an article is embedded as.

all-MiniLM-L6-v2 reads 256 word pieces; a long article must not silently become its first
paragraph. Measured on ../shared/data (see README, "Evaluation"), the head of title + dek + body wins
for the blend; the chunked variant (mean of 180-word body chunks) is kept for that comparison:
``benchmarks/ablate.py DIR --representation chunks``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.embedding.encoder import Encoder, Vectors, normalize_rows

CHUNK_WORDS = 180  # about 240 word pieces: one model window with room for specials


def head_text(title: str, dek: str, body: str) -> str:
    """Title, dek and body as one passage; the model reads its first 256 word pieces."""
    parts = [p.strip() for p in (title, dek, body) if p and p.strip()]
    return "\n".join(parts)


def chunks(body: str, size: int = CHUNK_WORDS) -> list[str]:
    words = body.split()
    return [" ".join(words[i:i + size]) for i in range(0, len(words), size)] or [""]


def embed_texts(encoder: Encoder, articles: Sequence[tuple[str, str, str]],
                mode: str = "head") -> Vectors:
    """Vectors for (title, dek, body) triples, in order."""
    if mode == "head":
        return encoder.encode([head_text(*a) for a in articles])
    if mode != "chunks":
        raise ValueError(f"unknown representation {mode!r}")
    texts: list[str] = []
    owners: list[int] = []
    for i, (title, dek, body) in enumerate(articles):
        for part in chunks(body):
            texts.append(head_text(title, dek, part))
            owners.append(i)
    vectors = encoder.encode(texts)
    pooled = np.zeros((len(articles), vectors.shape[1]), dtype=np.float32)
    np.add.at(pooled, np.asarray(owners), vectors)
    return normalize_rows(pooled)
