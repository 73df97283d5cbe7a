"""The cached int8 ONNX file: keyed by the model's hash, sealed by a manifest, rebuilt when it does
not match (truncated, corrupt, half-written), refused for models the graph cannot reproduce."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding import onnx_export
from recommender.embedding.encoder import resolve_model
from recommender.embedding.onnx_encoder import OnnxEncoder
from recommender.settings import BUNDLED_MODEL

MODEL_PATH = resolve_model(BUNDLED_MODEL)[0]
TEXTS = ["The central bank raised interest rates to fight inflation.", "Pasta for a summer dinner."]


def _copy_cache(onnx_encoder: OnnxEncoder, tmp_path: Path) -> Path:
    """A private copy of the session's cache, to damage without touching the shared one."""
    source = onnx_encoder.onnx_path.parent
    cache = tmp_path / "encoders"
    shutil.copytree(source, cache / source.name)
    return cache / source.name


@pytest.mark.model
def test_the_export_is_cached_by_the_models_hash_and_reused(onnx_encoder: OnnxEncoder) -> None:
    path = onnx_encoder.onnx_path
    target = path.parent
    assert target.name == onnx_export.model_hash(MODEL_PATH)[:24]
    manifest = json.loads((target / onnx_export.MANIFEST_NAME).read_text())
    assert manifest["sha256"] == onnx_export.file_sha256(path)
    assert manifest["recipe"] == onnx_export.RECIPE
    assert 10e6 < path.stat().st_size < 40e6  # int8: about a quarter of the 90 MB float model
    before = path.stat().st_mtime_ns
    assert onnx_export.cached_onnx(MODEL_PATH, target.parent) == path
    assert path.stat().st_mtime_ns == before  # verified and reused, not exported again
    assert not list(target.parent.glob(".export-*"))  # no work directory left behind


@pytest.mark.model
def test_a_damaged_file_fails_verification(onnx_encoder: OnnxEncoder, tmp_path: Path) -> None:
    target = _copy_cache(onnx_encoder, tmp_path)
    onnx_file, manifest = target / onnx_export.ONNX_NAME, target / onnx_export.MANIFEST_NAME
    assert onnx_export.verify(target)
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    onnx_file.write_bytes(bytes(data))
    assert not onnx_export.verify(target)
    manifest.write_text("{not json")
    assert not onnx_export.verify(target)
    manifest.unlink()
    assert not onnx_export.verify(target)  # a killed export never sealed its file


@pytest.mark.model
def test_a_truncated_cached_file_is_rebuilt_never_used(onnx_encoder: OnnxEncoder,
                                                       tmp_path: Path) -> None:
    target = _copy_cache(onnx_encoder, tmp_path)
    onnx_file = target / onnx_export.ONNX_NAME
    good = onnx_file.read_bytes()
    onnx_file.write_bytes(good[: len(good) // 3])  # a disk that filled up, a copy cut short
    rebuilt = OnnxEncoder(cache_dir=target.parent, threads=2)
    vectors = rebuilt.encode(TEXTS)  # would fail to load (or embed garbage) if it were used
    assert rebuilt.onnx_path == onnx_file and onnx_export.verify(target)
    assert onnx_file.stat().st_size > len(good) // 2
    assert np.allclose(vectors, onnx_encoder.encode(TEXTS), atol=1e-3)


def _model_copy(tmp_path: Path) -> Path:
    """The bundled model's small files, with a stand-in for the weights (never loaded here)."""
    copy = tmp_path / "model"
    shutil.copytree(MODEL_PATH, copy, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    (copy / "model.safetensors").write_bytes(b"weights")
    return copy


def test_only_what_the_graph_reproduces_is_exported(tmp_path: Path) -> None:
    copy = _model_copy(tmp_path)
    assert onnx_export.check_exportable(copy) == 256
    pooling = copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False,
                                   "pooling_mode_cls_token": True}))
    with pytest.raises(onnx_export.ExportError, match="not mean pooling"):
        onnx_export.check_exportable(copy)
    pooling.write_text(json.dumps(config))
    (copy / "tokenizer.json").unlink()
    with pytest.raises(onnx_export.ExportError, match=r"no tokenizer\.json"):
        onnx_export.check_exportable(copy)
    (copy / "modules.json").unlink()
    with pytest.raises(onnx_export.ExportError, match="not a sentence-transformers model"):
        onnx_export.check_exportable(copy)
    with pytest.raises(onnx_export.ExportError):
        OnnxEncoder(str(copy), cache_dir=tmp_path / "encoders")  # refused when made, not later


def test_the_key_changes_with_any_model_file(tmp_path: Path) -> None:
    copy = _model_copy(tmp_path)
    before = onnx_export.model_hash(copy)
    assert onnx_export.model_hash(copy) == before
    (copy / "model.safetensors").write_bytes(b"other weights")
    assert onnx_export.model_hash(copy) != before
