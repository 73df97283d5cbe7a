"""A deterministic stand-in for the sentence model: hashed bag of words, L2-normalised.

Texts sharing words get similar vectors, which is enough to test ranking and storage logic fast;
the real model is exercised by the tests marked ``model``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from recommender.embedding.encoder import Vectors, normalize_rows

_WORD = re.compile(r"[a-z]{3,}")


class FakeEncoder:
    def __init__(self, dimension: int = 64, model_id: str = "fake-bow", *,
                 backend: str = "torch") -> None:
        self._dimension = dimension
        self._model_id = model_id
        self.backend = backend  # as recommender.embedding.backends.backend_of reads it
        self.calls = 0
        self.texts_encoded = 0

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, h % self._dimension] += 1.0
        return normalize_rows(out)
