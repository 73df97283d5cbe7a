"""Where candidates come from: the serving FAISS build plus a brute-force delta.

Articles embedded since the last build are not in its index; they are searched exactly from
their stored vectors (a small matrix), so publishing never waits for a rebuild and the nightly job
stays the only index writer. Lexical rows for the delta use the build's fitted vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.embedding.backends import TORCH
from recommender.embedding.cache import load_vectors
from recommender.embedding.encoder import Vectors
from recommender.ranking.build_data import RankingBuild
from recommender.ranking.formulas import may_be_one_text
from recommender.ranking.lexical import LexicalModel, gram, lexical_text
from recommender.ranking.smoothing import Pool, smooth_rows
from recommender.storage.schema import Article

IdArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    semantic: float
    lexical: float


class SearchSpace:
    """The build's vectors and lexical rows, plus the delta, behind one search method."""

    def __init__(self, build: RankingBuild | None, lexical: LexicalModel,
                 delta_ids: IdArray, delta_vectors: Vectors, delta_lexical: sparse.csr_matrix) -> None:
        self.build = build
        self.lexical = lexical
        self.delta_ids = delta_ids
        self.delta_vectors = delta_vectors
        self.delta_raw = delta_vectors  # before smoothing, centred (load() smooths delta_vectors)
        self.delta_lexical = delta_lexical
        self._delta_pos = {int(a): i for i, a in enumerate(delta_ids)}

    @classmethod
    def load(cls, session: Session, model_id: str, build: RankingBuild | None, *,
             backend: str = TORCH) -> SearchSpace:
        """The build plus every embedded article it does not contain (current text only)."""
        if build is not None and (build.meta.get("model_id"), build.meta.get("backend", TORCH)) \
                != (model_id, backend):
            build = None  # never mix two models' (or two encoder backends') vectors
        snapshot = datetime.fromisoformat(build.meta["snapshot"]) if build is not None else None
        delta_ids, delta_raw = load_vectors(session, model_id, created_after=snapshot,
                                            backend=backend)
        if build is not None and build.smoothing.on:
            delta_raw = build.smoothing.prepare(delta_raw)  # centred as the build's
        texts = article_texts(session, delta_ids)
        lexical = build.lexical if build is not None else LexicalModel.fit(texts)
        delta_lexical = lexical.transform(texts)
        space = cls(build, lexical, delta_ids, delta_raw, delta_lexical)
        if build is not None and build.smoothing.on and len(delta_ids):
            # smoothed as the build smoothed its own articles; never against oneself (nor one's
            # previous version in the build)
            own = len(build.ids) + np.arange(len(delta_ids), dtype=np.int64)
            previous = np.asarray([build.positions.get(int(a), -1) for a in delta_ids],
                                  dtype=np.int64)
            space.delta_vectors = smooth_rows(delta_raw, delta_lexical,
                                              [space._build_pool(), Pool(delta_raw, delta_lexical)],
                                              build.smoothing,
                                              exclude=np.stack([own, previous], axis=1))
        return space

    def _build_pool(self) -> Pool:
        assert self.build is not None and self.build.raw is not None
        return Pool(self.build.raw, self.build.lexical_matrix)

    def smooth(self, vector: Vectors, lexical_row: sparse.csr_matrix | None) -> Vectors:
        """A draft's (or not yet embedded article's) vector, smoothed as the build's are."""
        if self.build is None or not self.build.smoothing.on:
            return vector
        row = self.build.smoothing.prepare(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        pools = [self._build_pool()]
        if len(self.delta_ids):
            pools.append(Pool(self.delta_raw, self.delta_lexical))
        smoothed: Vectors = smooth_rows(row, lexical_row, pools, self.build.smoothing)[0]
        return smoothed

    def __len__(self) -> int:
        return (len(self.build.ids) if self.build is not None else 0) + len(self.delta_ids)

    def vector(self, article_id: int) -> Vectors | None:
        if article_id in self._delta_pos:
            return np.asarray(self.delta_vectors[self._delta_pos[article_id]], dtype=np.float32)
        return self.build.vector(article_id) if self.build is not None else None

    def lexical_row(self, article_id: int) -> sparse.csr_matrix | None:
        if article_id in self._delta_pos:
            return self.delta_lexical[self._delta_pos[article_id]]
        if self.build is not None and article_id in self.build.positions:
            return self.build.lexical_matrix[self.build.positions[article_id]]
        return None

    def pairwise(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Semantic and lexical similarity matrices among these articles (diversity, MMR).

        Lexical similarity only matters to find one text twice (``formulas.one_text``), and such
        pairs are always near in meaning too, so it is computed only for pairs whose embeddings
        are alike (``formulas.may_be_one_text``) and left 0 elsewhere: most pages need none.
        """
        semantic = self._gram(ids, raw=False)
        # the check runs on the raw embeddings: smoothing pulls neighbours together, and on the
        # smoothed ones many more pairs pass it (lists of a 10k synthetic build: 32 s, not 11 s)
        raw = self._gram(ids, raw=True) if self.build is not None and self.build.smoothing.on \
            else semantic
        lexical = np.zeros((len(ids), len(ids)), dtype=np.float32)
        close = np.argwhere(np.triu(may_be_one_text(raw), k=1))
        if len(close):
            involved = sorted({int(i) for i in close.ravel()})
            rows = [self.lexical_row(ids[k]) for k in involved]
            present = [k for k, row in zip(involved, rows, strict=True) if row is not None]
            if present:
                stacked = sparse.vstack([r for r in rows if r is not None]).tocsr()
                lexical[np.ix_(present, present)] = gram(stacked)
        return semantic, lexical

    def _gram(self, ids: Sequence[int], *, raw: bool) -> np.ndarray:
        """Inner products among these articles' vectors (smoothed, or raw)."""
        vectors = np.zeros((len(ids), self.dimension), dtype=np.float32)
        delta = self.delta_raw if raw else self.delta_vectors
        for k, article_id in enumerate(ids):
            if article_id in self._delta_pos:
                vectors[k] = delta[self._delta_pos[article_id]]
        build = self.build
        if build is not None:
            build_at = [k for k, a in enumerate(ids) if a not in self._delta_pos
                        and a in build.positions]
            if build_at:
                source = build.raw if raw and build.raw is not None else build.vectors
                vectors[build_at] = source[[build.positions[ids[k]] for k in build_at]]
        result: np.ndarray = vectors @ vectors.T
        return result

    @property
    def dimension(self) -> int:
        if self.build is not None and self.build.vectors.ndim == 2 and self.build.vectors.shape[1]:
            return int(self.build.vectors.shape[1])
        return int(self.delta_vectors.shape[1]) if self.delta_vectors.ndim == 2 else 0

    def search(self, vector: Vectors, lexical_row: sparse.csr_matrix | None, n: int) -> list[Hit]:
        """The ``n`` nearest by meaning (build and delta merged), with their lexical cosine."""
        ids_parts: list[IdArray] = []
        sims_parts: list[npt.NDArray[np.float32]] = []
        lex_parts: list[npt.NDArray[np.float32]] = []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if self.build is not None and len(self.build.ids):
            sims, ids = self.build.search(query, n)
            # a hit re-embedded since the build is taken from the delta (its current text)
            keep = (ids[0] >= 0) & ~np.isin(ids[0], self.delta_ids)
            found = ids[0][keep]
            ids_parts.append(found)
            sims_parts.append(sims[0][keep])
            positions = np.fromiter((self.build.positions[int(a)] for a in found), dtype=np.int64,
                                    count=len(found))
            lex_parts.append(_cosines(self.build.lexical_matrix, positions, lexical_row))
        if len(self.delta_ids):
            sims = self.delta_vectors @ query[0]
            order = np.argsort(-sims)[:n]
            ids_parts.append(self.delta_ids[order])
            sims_parts.append(sims[order].astype(np.float32))
            lex_parts.append(_cosines(self.delta_lexical, order.astype(np.int64), lexical_row))
        if not ids_parts:
            return []
        all_ids = np.concatenate(ids_parts)
        all_sims = np.concatenate(sims_parts)
        all_lex = np.concatenate(lex_parts)
        order = np.argsort(-all_sims, kind="stable")[:n]
        return [Hit(int(all_ids[i]), float(all_sims[i]), float(all_lex[i])) for i in order]


def _cosines(matrix: sparse.csr_matrix, rows: IdArray,
             query: sparse.csr_matrix | None) -> npt.NDArray[np.float32]:
    if query is None or len(rows) == 0:
        return np.zeros(len(rows), dtype=np.float32)
    return np.asarray((matrix[rows] @ query.T).toarray(), dtype=np.float32).ravel()


def article_texts(session: Session, ids: IdArray) -> list[str]:
    if len(ids) == 0:
        return []
    wanted = [int(a) for a in ids]
    texts: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(select(Article.id, Article.title, Article.dek, Article.body)
                               .where(Article.id.in_(wanted[start:start + 500])))
        texts.update({r.id: lexical_text(r.title, r.dek, r.body) for r in rows})
    return [texts.get(a, "") for a in wanted]
