"""The encoder: which model a setting names, row normalisation, a lazy load, and the real
all-MiniLM-L6-v2 (the tests marked ``model`` share one load per session, tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding.encoder import (
    BUNDLED_MODEL_ID,
    SentenceTransformerEncoder,
    normalize_rows,
    resolve_model,
)
from recommender.settings import BUNDLED_MODEL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.model
def test_encoder_gives_normalised_384_d_vectors(encoder: SentenceTransformerEncoder) -> None:
    vectors = encoder.encode(["Russia and India sign an oil deal", "", "x" * 5000])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert encoder.model_id == BUNDLED_MODEL_ID


@pytest.mark.model
def test_the_real_model_scores_a_paraphrase_above_another_topic(
        encoder: SentenceTransformerEncoder) -> None:
    a, b, c = encoder.encode(["The central bank raised interest rates to fight inflation.",
                              "Borrowing costs went up as policymakers tried to cool prices.",
                              "Italian pasta recipes for a quick summer dinner."])
    assert float(a @ b) > float(a @ c) + 0.2  # few words in common, the same story
    again = encoder.encode(["The central bank raised interest rates to fight inflation."])[0]
    assert np.allclose(again, a, atol=1e-5)  # the same text, the same vector
    assert encoder.dimension == 384
    empty = encoder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_the_setting_names_the_bundled_model_or_a_local_directory(tmp_path: Path) -> None:
    path, model_id = resolve_model(BUNDLED_MODEL)
    assert model_id == BUNDLED_MODEL_ID and (Path(path) / "config.json").is_file()
    local = tmp_path / "my-model"
    local.mkdir()
    assert resolve_model(str(local)) == (str(local), "local:my-model")
    with pytest.raises(ValueError, match=r"model directory not found: .*missing"):
        resolve_model(str(tmp_path / "missing"))
    (tmp_path / "a-file").write_text("not a model")
    with pytest.raises(ValueError, match="model directory not found"):
        SentenceTransformerEncoder(str(tmp_path / "a-file"))


def test_rows_are_normalised_and_zero_rows_stay_zero() -> None:
    matrix = np.array([[3.0, 4.0], [0.0, 0.0], [-2.0, 0.0]], dtype=np.float64)
    out = normalize_rows(matrix)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]])
    assert not np.isnan(out).any()
    strided = normalize_rows(np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2])
    assert strided.flags.c_contiguous and np.allclose(np.linalg.norm(strided[1:], axis=1), 1.0)


def test_nothing_heavy_is_imported_until_the_first_encode() -> None:
    """The widget's processes construct a Recommender (and so may name an encoder) but must never
    pay for importing sentence-transformers or torch."""
    code = ("import sys\n"
            "from recommender.embedding.encoder import SentenceTransformerEncoder\n"
            "encoder = SentenceTransformerEncoder()\n"
            "print(encoder.model_id)\n"
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
            " if m in sys.modules))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.splitlines() == [BUNDLED_MODEL_ID, "[]"]
