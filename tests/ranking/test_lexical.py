"""The lexical signal: words plus proper names, fitted on the catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.ranking.lexical import LexicalModel, StemmedWords, lexical_text
from tests.helpers.texts import CATALOGUE


def test_shared_names_raise_similarity_over_shared_words() -> None:
    _model, matrix = LexicalModel.fit_transform(CATALOGUE)
    sims = (matrix @ matrix.T).toarray()
    # the two Sumita stories are each other's nearest; the two Bundesbank stories likewise
    np.fill_diagonal(sims, -1)
    assert int(np.argmax(sims[3])) == 4
    assert int(np.argmax(sims[0])) == 1
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    assert np.allclose(norms, 1.0, atol=1e-5)


def test_word_forms_meet_at_their_stem() -> None:
    analyzer = StemmedWords()
    assert analyzer("Imports rose; the importer imported more.") == [
        "import", "rose", "import", "import", "import rose", "rose import", "import import"]
    model = LexicalModel.fit(["Wheat exports rose sharply", "Exported wheat fell",
                              "Copper output climbed", "Copper mines closed"], min_df=1)
    rows = model.transform(["Wheat exporters", "wheat export"]).toarray()
    assert float(rows[0] @ rows[1]) > 0.99  # "exporters" and "export" are one word here


def test_a_new_text_is_transformed_with_the_fitted_vocabularies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, matrix = LexicalModel.fit_transform(CATALOGUE)
    path = tmp_path / "lexical.pkl"
    model.save(path)
    loaded = LexicalModel.load(path)
    row = loaded.transform([lexical_text("Sumita on the yen", "", "Satoshi Sumita spoke.")])
    assert row.shape == (1, matrix.shape[1]) == (1, loaded.width)
    sims = (matrix @ row.T).toarray().ravel()
    assert int(np.argmax(sims)) in (3, 4)


def test_a_build_written_before_names_still_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pickle

    from sklearn.feature_extraction.text import TfidfVectorizer

    path = tmp_path / "lexical.pkl"
    path.write_bytes(pickle.dumps(TfidfVectorizer().fit(CATALOGUE)))
    model = LexicalModel.load(path)
    assert model.transform(["the yen"]).shape[1] == model.width


@pytest.mark.parametrize("texts", [[], [""], ["   "], ["the and of"], ["Only One Article"]])
def test_degenerate_catalogues_fit(texts: list[str]) -> None:
    model, matrix = LexicalModel.fit_transform(texts)
    assert matrix.shape == (len(texts), model.width)
    assert model.transform(["anything at all"]).shape == (1, model.width)
