"""The lexical signal: TF-IDF cosine over title + dek + body.

A small sentence model alone loses to keyword overlap on long news articles (names, places and
numbers carry the story); blended, the two beat either. Fitted once per index build over the
catalogue, then applied to new articles and drafts with the same vocabulary.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse


def lexical_text(title: str, dek: str, body: str) -> str:
    return "\n".join(p for p in (title, dek, body) if p)


class LexicalModel:
    """A fitted TF-IDF vectorizer (sublinear tf, English stop words) with L2-normalised rows."""

    def __init__(self, vectorizer: Any) -> None:
        self._vectorizer = vectorizer

    @classmethod
    def fit(cls, texts: Sequence[str], *, min_df: int = 2) -> LexicalModel:
        return cls.fit_transform(texts, min_df=min_df)[0]

    @classmethod
    def fit_transform(cls, texts: Sequence[str], *, min_df: int = 2
                      ) -> tuple[LexicalModel, sparse.csr_matrix]:
        """Fit and transform in one pass over the texts (tokenising 100k articles twice was
        a third of a large build's index stage)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        # min_df 2 drops one-off typos on a real catalogue; a tiny one would lose everything.
        effective_min_df = min_df if len(texts) >= 50 else 1
        # word bigrams ("prime minister", "interest rates") gave the best blend partner
        vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", ngram_range=(1, 2),
                                     min_df=effective_min_df, dtype=np.float32)
        try:
            matrix = vectorizer.fit_transform(list(texts) or [""])
        except ValueError:  # empty vocabulary: every text was stop words or blank
            vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float32,
                                         token_pattern=r"(?u)\b\w+\b")
            vectorizer.fit([" ".join(texts) or "empty"])
            matrix = vectorizer.transform(list(texts) or [""])
        # stop_words_ lists every pruned n-gram (millions on a big catalogue); only introspection
        vectorizer.stop_words_ = None
        model = cls(vectorizer)
        if not texts:
            return model, model.transform([])
        return model, sparse.csr_matrix(matrix, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if not texts:
            return sparse.csr_matrix((0, len(self._vectorizer.vocabulary_)), dtype=np.float32)
        matrix = self._vectorizer.transform(list(texts))
        return sparse.csr_matrix(matrix, dtype=np.float32)

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            pickle.dump(self._vectorizer, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path) -> LexicalModel:
        with path.open("rb") as fh:
            return cls(pickle.load(fh))  # our own build file, written by IndexStore.write


def row_similarities(matrix: sparse.csr_matrix, row: int | sparse.csr_matrix,
                     others: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """Cosine between one row (an index into ``matrix`` or a 1×V vector) and ``others`` rows."""
    vector = matrix[row] if isinstance(row, int | np.integer) else row
    if len(others) == 0:
        return np.zeros(0, dtype=np.float32)
    sims = matrix[others] @ vector.T
    return np.asarray(sims.toarray(), dtype=np.float32).ravel()


def gram(rows: sparse.csr_matrix) -> npt.NDArray[np.float32]:
    """All pairwise dot products of a few sparse rows.

    ``rows @ rows.T`` converts through a vocabulary-sized index (a million word bigrams), which
    made it the slowest step of a build; compacting to the columns these rows use is ~100x faster.
    """
    rows = sparse.csr_matrix(rows)
    columns, inverse = np.unique(rows.indices, return_inverse=True)
    dense = np.zeros((rows.shape[0], len(columns)), dtype=np.float32)
    dense[np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)), inverse] = rows.data
    return dense @ dense.T
