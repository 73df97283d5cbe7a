"""The int8 ONNX encoder against the torch encoder on the same texts: same tokenisation, pooling
and normalisation, so cosine >= 0.99 on real articles (#14)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding.encoder import BUNDLED_MODEL_ID, SentenceTransformerEncoder
from recommender.embedding.onnx_encoder import ONNX_INT8, OnnxEncoder
from recommender.embedding.representation import head_text

DEMO = Path(__file__).resolve().parents[2] / "recommender" / "demo_data" / "articles_a.jsonl"


def _demo_texts(n: int) -> list[str]:
    with open(DEMO, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:n]
    return [head_text(r.get("title") or "", r.get("dek") or "", r.get("body") or "") for r in rows]


@pytest.mark.model
def test_int8_embeddings_stay_within_cosine_0_99_of_torch(
        encoder: SentenceTransformerEncoder, onnx_encoder: OnnxEncoder) -> None:
    texts = _demo_texts(36)  # whole articles (what a build embeds), most cut at 256 word pieces
    reference, fast = encoder.encode(texts), onnx_encoder.encode(texts)
    cosine = np.sum(reference * fast, axis=1)
    assert cosine.min() >= 0.99, sorted(cosine)[:3]
    # headlines alone (a draft's first words in the editor) lose a little more to int8
    headlines = [t.split("\n")[0] for t in texts]
    short = np.sum(encoder.encode(headlines) * onnx_encoder.encode(headlines), axis=1)
    assert short.min() >= 0.98 and short.mean() >= 0.99, sorted(short)[:3]
    # the ranking they give agrees too: each article's nearest other article is the same one
    same = np.argsort(-(reference @ reference.T), axis=1)[:, 1]
    near = np.argsort(-(fast @ fast.T), axis=1)[:, 1]
    assert np.mean(same == near) >= 0.9


@pytest.mark.model
def test_vectors_are_normalised_in_order_and_independent_of_batching(
        onnx_encoder: OnnxEncoder) -> None:
    texts = [*_demo_texts(5), "", "short", "x" * 5000]
    vectors = onnx_encoder.encode(texts)
    assert vectors.shape == (8, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([onnx_encoder.encode([t]) for t in texts])
    assert np.allclose(vectors, one_by_one, atol=1e-6)  # a text's vector depends on it alone
    reversed_ = onnx_encoder.encode(texts[::-1])[::-1]
    assert np.allclose(vectors, reversed_, atol=1e-6)
    empty = onnx_encoder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_the_encoder_names_its_model_and_backend_without_loading(tmp_path: Path) -> None:
    lazy = OnnxEncoder(cache_dir=tmp_path / "encoders")
    assert lazy.model_id == BUNDLED_MODEL_ID and lazy.backend == ONNX_INT8
    assert lazy.dimension == 384
    assert not (tmp_path / "encoders").exists()  # nothing exported before the first encode
    with pytest.raises(ValueError, match="model directory not found"):
        OnnxEncoder(str(tmp_path / "missing"), cache_dir=tmp_path)


def test_onnxruntime_never_records_usage_telemetry(tmp_path: Path) -> None:
    """onnxruntime 1.32 on Linux writes telemetry under ~/.cache/Microsoft unless told not to."""
    import subprocess
    import sys

    code = ("import os, sys\nfrom onnx import TensorProto, helper, save\n"
            "from recommender.embedding.onnx_export import import_onnxruntime\n"
            "x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])\n"
            "y = helper.make_tensor_value_info('y', TensorProto.FLOAT, [1])\n"
            "graph = helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'g', [x], [y])\n"
            "save(helper.make_model(graph), sys.argv[1])\n"
            "ort = import_onnxruntime()\n"
            "ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])\n"
            "print(os.environ['ORT_DISABLE_TELEMETRY'])\n")
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "identity.onnx")], env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"
    assert not (tmp_path / ".cache" / "Microsoft").exists()
    assert not (tmp_path / "cache" / "Microsoft").exists()
