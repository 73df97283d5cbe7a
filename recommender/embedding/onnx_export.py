"""The int8 ONNX file of a sentence-transformers model: made once, kept beside the data, verified.

The file is derived from the bundled model (never downloaded): ``torch.onnx.export`` of the
transformer with mean pooling and L2 normalisation inside the graph, then onnxruntime's
``quantize_dynamic`` with per-channel int8 weights (per-tensor weights lost accuracy: cosine 0.87
at worst against torch, ../shared/ENVIRONMENT.md). Exporting takes ~30 s, so the result is cached
under ``<data_dir>/encoders/<key>/``, the key being a hash of the model's files and of this
recipe: a new model or a new recipe gets a new file, never an old one. A manifest beside the file
records its SHA-256; a file that does not match (truncated, corrupt, half-written by a killed
export) is rebuilt, never loaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RECIPE = "minilm-mean-l2/opset17/qint8-per-channel/v1"  # change it to invalidate every cache
ONNX_NAME = "model.int8.onnx"
MANIFEST_NAME = "manifest.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_SUPPORTED_MODULES = {"sentence_transformers.models.Transformer",
                      "sentence_transformers.models.Pooling",
                      "sentence_transformers.models.Normalize"}


class ExportError(ValueError):
    """This model cannot run on the ONNX backend (the torch backend still can)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_hash(model_path: str | Path) -> str:
    """SHA-256 over the model directory's files (names and bytes) and the recipe."""
    root = Path(model_path)
    digest = hashlib.sha256(RECIPE.encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def check_exportable(model_path: str | Path) -> int:
    """The model's max sequence length, or ExportError naming why it cannot be exported.

    Only the architecture the graph reproduces is accepted: a transformer, mean pooling,
    optional normalisation, and a fast tokenizer file to tokenise exactly as the model does.
    """
    root = Path(model_path)
    try:
        modules = read_json(root / "modules.json")
        pooling = read_json(root / "1_Pooling" / "config.json")
    except (OSError, ValueError) as exc:
        raise ExportError(f"{root}: not a sentence-transformers model folder ({exc})") from None
    kinds = {m.get("type") for m in modules}
    if not kinds <= _SUPPORTED_MODULES:
        raise ExportError(f"{root}: modules {sorted(kinds - _SUPPORTED_MODULES)} have no ONNX export")
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        raise ExportError(f"{root}: pooling {modes} is not mean pooling")
    if not (root / "tokenizer.json").is_file():
        raise ExportError(f"{root}: no tokenizer.json (a fast tokenizer is needed)")
    try:
        config = read_json(root / "sentence_bert_config.json")
    except (OSError, ValueError):
        config = {}
    return int(config.get("max_seq_length") or 256)


def cached_onnx(model_path: str | Path, cache_dir: Path) -> Path:
    """The verified int8 file for this model, exported first if missing or corrupt."""
    check_exportable(model_path)
    key = model_hash(model_path)[:24]
    target = cache_dir / key
    target.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / f"{key}.lock"):  # concurrent workers: one exports, the rest wait
        if verify(target):
            return target / ONNX_NAME
        if (target / ONNX_NAME).exists() or (target / MANIFEST_NAME).exists():
            log.warning("cached ONNX encoder in %s does not match its manifest: rebuilding", target)
        log.info("exporting %s to int8 ONNX in %s (once; ~30 s)", model_path, target)
        build(model_path, target, key)
        if not verify(target):
            raise ExportError(f"the ONNX file just written to {target} does not verify")
    return target / ONNX_NAME


def verify(target: Path) -> bool:
    """True when the manifest is readable and the file's size and SHA-256 match it."""
    onnx_file, manifest = target / ONNX_NAME, target / MANIFEST_NAME
    try:
        expected = read_json(manifest)
        if onnx_file.stat().st_size != expected["size"]:
            return False
        return bool(file_sha256(onnx_file) == expected["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def build(model_path: str | Path, target: Path, key: str) -> None:
    """Export, quantise, then move into place: the file first, the manifest (its seal) last."""
    (target / MANIFEST_NAME).unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        fp32, int8 = work / "model.fp32.onnx", work / ONNX_NAME
        export_fp32(model_path, fp32)
        quantize_int8(fp32, int8)
        manifest = {"sha256": file_sha256(int8), "size": int8.stat().st_size, "key": key,
                    "recipe": RECIPE, "model": str(model_path)}
        os.replace(int8, target / ONNX_NAME)
        sealed = work / MANIFEST_NAME
        sealed.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(sealed, target / MANIFEST_NAME)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export_fp32(model_path: str | Path, out: Path) -> None:
    """The transformer + mean pooling + L2 normalisation as one float32 ONNX graph."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = AutoModel.from_pretrained(str(model_path))
    model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            # keyword arguments: recent transformers reject a positional token_type_ids at export
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    dummy = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with warnings.catch_warnings(), torch.no_grad():
        # the legacy exporter's deprecation and tracer notes; the graph is checked by the tests
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled(), (dummy, dummy, torch.zeros_like(dummy)), str(out),
                          dynamo=False, opset_version=17, input_names=list(INPUTS),
                          output_names=["embedding"],
                          dynamic_axes={**axes, "embedding": {0: "batch"}})


def import_onnxruntime() -> Any:
    """onnxruntime, with its usage telemetry off. Its Linux wheels (1.32) record events under
    ~/.cache/Microsoft/DeveloperTools/ to upload them; a library embedded in a publisher's site
    must not phone home, and only this variable, read when the library loads, stops it."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    return onnxruntime


def quantize_int8(fp32: Path, out: Path) -> None:
    import_onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # its "consider pre-processing" note, every time
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
