"""The ranking's files in a build: written through the store, checksummed, read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from recommender.index.builds import BuildError, IndexStore
from recommender.index.vectors import EXACT_SPEC
from recommender.ranking.build_data import RankingBuild, ranking_files
from recommender.ranking.lexical import LexicalModel
from recommender.ranking.smoothing import Smoothing
from tests.helpers.vectors import unit_vectors

TEXTS = [f"story {i} about the harbour strike in topic {i % 3}" for i in range(20)]


def _write(store: IndexStore, build_id: str, meta: dict[str, object],
           matrix_rows: int = len(TEXTS)) -> LexicalModel:
    lexical, matrix = LexicalModel.fit_transform(TEXTS)
    store.write(build_id, np.arange(1, 21, dtype=np.int64), unit_vectors(20, 8), spec=EXACT_SPEC,
                meta=meta, files=ranking_files(lexical, matrix[:matrix_rows], {"port": 1.5}))
    return lexical


def test_a_build_reads_back_what_ranking_wrote(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    smoothing = Smoothing(weight=1.0, neighbours=4, centre=(0.5,) * 8)
    lexical = _write(store, "b1", {"smoothing": smoothing.to_dict()})
    build = RankingBuild.load(store, "b1", verify=True)
    assert sorted(build.meta["checksummed"]) == sorted(
        ["ids.npy", "index.faiss", "vectors.npy", "lexical.pkl", "lexical.npz", "tag_idf.json"])
    assert build.tag_idf == {"port": 1.5} and build.smoothing == smoothing
    # the same fitted vocabulary: new texts get the rows the written model gives them
    again = build.lexical.transform(["a harbour strike", TEXTS[4]])
    assert sparse.csr_matrix(again - lexical.transform(["a harbour strike", TEXTS[4]])).nnz == 0
    assert build.lexical_matrix.shape[0] == 20
    assert np.allclose(build.lexical_matrix[4].toarray(), again[1].toarray())
    # the index's half is the same as the store's own load
    _, ids = build.search(build.vectors[:1], 1)
    assert ids[0, 0] == 1 and build.positions[20] == 19


def test_a_build_without_smoothing_in_its_meta_did_not_smooth(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    _write(store, "b1", {})
    assert not RankingBuild.load(store, "b1").smoothing.on


def test_the_ranking_files_are_checksummed_with_the_rest(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    _write(store, "b1", {})
    (tmp_path / "builds" / "b1" / "tag_idf.json").write_text('{"port": 9.0}')
    with pytest.raises(BuildError, match="checksum"):
        RankingBuild.load(store, "b1", verify=True)


def test_lexical_rows_that_do_not_match_the_articles_are_refused(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    _write(store, "b1", {}, matrix_rows=15)
    with pytest.raises(BuildError, match="15 lexical rows for 20 articles"):
        RankingBuild.load(store, "b1")
    (tmp_path / "builds" / "b1" / "lexical.pkl").unlink()
    with pytest.raises(BuildError, match="cannot load build b1"):
        RankingBuild.load(store, "b1")
