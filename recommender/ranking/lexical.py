"""The lexical signal: TF-IDF cosine over title + dek + body.

A small sentence model alone loses to keyword overlap on long news articles (names, places and
numbers carry the story); blended, the two beat either. Fitted once per index build over the
catalogue, then applied to new articles and drafts with the same vocabulary.
"""

from __future__ import annotations

import functools
import itertools
import pickle
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from recommender.ranking.names import name_words, names_in, with_countries


def lexical_text(title: str, dek: str, body: str) -> str:
    return "\n".join(p for p in (title, dek, body) if p)


NAMES_WEIGHT = 0.5  # the names part's weight beside the words part (each L2-normalised)


def _identity(tokens: list[str]) -> list[str]:
    """Analyzer of the names vectorizer (module level, so the fitted model pickles)."""
    return tokens


_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


@functools.lru_cache(maxsize=500_000)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


class StemmedWords:
    """Analyzer of the words vectorizer: scikit-learn's lower-cased words without English stop
    words, each reduced to its Snowball stem ("imports", "imported" -> "import"), then 1-2 grams.

    Measured on ../shared/data (README, "Evaluation"): nDCG@10 +0.0004 to +0.0016 over the same
    words unstemmed. A class at module level, so the fitted vectorizer pickles.
    """

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        self._stop = ENGLISH_STOP_WORDS

    def __call__(self, text: str) -> list[str]:
        words = [_stem(w) for w in _WORD.findall(text.lower()) if w not in self._stop]
        return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _words_vectorizer(n_texts: int, min_df: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # min_df 2 drops one-off typos on a real catalogue; a tiny one would lose everything.
    # word bigrams ("prime minister", "interest rates") gave the best blend partner
    return TfidfVectorizer(analyzer=StemmedWords(), sublinear_tf=True,
                           min_df=min_df if n_texts >= 50 else 1, dtype=np.float32)


class LexicalModel:
    """TF-IDF of the stemmed words (sublinear tf, English stop words, 1-2 grams) and, beside it, TF-IDF
    of the proper names (``recommender.ranking.names``); a row is both, L2-normalised together."""

    def __init__(self, vectorizer: Any, names_vectorizer: Any = None,
                 names: frozenset[str] = frozenset()) -> None:
        self._vectorizer = vectorizer
        self._names_vectorizer = names_vectorizer
        self._names = names

    @classmethod
    def fit(cls, texts: Sequence[str], *, min_df: int = 2) -> LexicalModel:
        return cls.fit_transform(texts, min_df=min_df)[0]

    @classmethod
    def fit_transform(cls, texts: Sequence[str], *, min_df: int = 2
                      ) -> tuple[LexicalModel, sparse.csr_matrix]:
        """Fit and transform in one pass over the texts (tokenising 100k articles twice was
        a third of a large build's index stage)."""
        texts = list(texts)
        return cls.fit_transform_stream(lambda: iter(texts), len(texts), min_df=min_df)

    @classmethod
    def fit_transform_stream(cls, texts: Callable[[], Iterable[str]], count: int, *,
                             min_df: int = 2) -> tuple[LexicalModel, sparse.csr_matrix]:
        """``fit_transform`` over texts read afresh for each of its three passes (``texts()``
        yields the ``count`` texts in order each time), so a large build never holds the whole
        catalogue's text (a million articles: several GB as Python strings)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = _words_vectorizer(count, min_df)
        try:
            words = vectorizer.fit_transform(
                (with_countries(t) for t in texts()) if count else [""])
        except ValueError:  # empty vocabulary: every text was stop words or blank
            listed = list(texts())
            vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float32,
                                         token_pattern=r"(?u)\b\w+\b")
            vectorizer.fit([" ".join(listed).strip() or "empty"])
            words = vectorizer.transform(listed or [""])
        # stop_words_ lists every pruned n-gram (millions on a big catalogue); only introspection
        vectorizer.stop_words_ = None
        names = name_words(texts())
        names_vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float32,
                                           min_df=min_df if count >= 50 else 1)
        try:
            found = names_vectorizer.fit_transform(names_in(t, names) for t in texts())
        except ValueError:  # no name occurs often enough: words only
            names_vectorizer, found = None, None
        else:
            names_vectorizer.stop_words_ = None
        model = cls(vectorizer, names_vectorizer, names)
        if not count:
            return model, model.transform([])
        return model, model._combine(sparse.csr_matrix(words, dtype=np.float32), found)

    def _combine(self, words: sparse.csr_matrix, found: Any) -> sparse.csr_matrix:
        if self._names_vectorizer is None:
            return sparse.csr_matrix(words, dtype=np.float32)
        from sklearn.preprocessing import normalize

        both = sparse.hstack([words, NAMES_WEIGHT * sparse.csr_matrix(found)], format="csr")
        return sparse.csr_matrix(normalize(both), dtype=np.float32)

    @property
    def width(self) -> int:
        names = len(self._names_vectorizer.vocabulary_) if self._names_vectorizer else 0
        return len(self._vectorizer.vocabulary_) + names

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if not texts:
            return sparse.csr_matrix((0, self.width), dtype=np.float32)
        words = self._vectorizer.transform([with_countries(t) for t in texts])
        found = None
        if self._names_vectorizer is not None:
            found = self._names_vectorizer.transform([names_in(t, self._names) for t in texts])
        return self._combine(sparse.csr_matrix(words, dtype=np.float32), found)

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            pickle.dump((self._vectorizer, self._names_vectorizer, self._names), fh,
                        protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path) -> LexicalModel:
        with path.open("rb") as fh:
            state = pickle.load(fh)  # our own build file, written by IndexStore.write
        if not isinstance(state, tuple):  # a build written before names were added: words only
            return cls(state)
        return cls(*state)


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
