"""Which encoder a deployment runs (``RELATED_ENCODER_BACKEND``), and which one made a vector.

Two backends run the same model: ``torch`` (sentence-transformers) and ``onnx-int8`` (the model
exported once to ONNX and quantised, ``onnx_encoder``). Their vectors agree to cosine >= 0.99 but
are not identical, so every cached vector records its backend and an index never mixes them.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from recommender.embedding import encoder as torch_encoder
from recommender.embedding.encoder import Encoder, resolve_model
from recommender.embedding.onnx_encoder import ONNX_INT8, OnnxEncoder
from recommender.embedding.onnx_export import ExportError, check_exportable
from recommender.settings import PREFIX, Settings, SettingsError

TORCH = "torch"
AUTO = "auto"
BACKENDS = (TORCH, ONNX_INT8)
log = logging.getLogger(__name__)


def backend_of(encoder: Encoder) -> str:
    """The encoder's backend; an encoder that names none (a test double, a plug-in written
    before backends existed) counts as ``torch``, as every vector cached before them does."""
    return str(getattr(encoder, "backend", TORCH))


def encoder_cache_dir(settings: Settings) -> Path:
    """Where derived model files (the ONNX export) live: beside the data, not in the package."""
    return settings.data_dir / "encoders"


def _installed(module: str) -> bool:
    """Importable, without importing it (onnxruntime takes a while to load)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules
        return False


def chosen_backend(settings: Settings) -> str:
    """The backend ``auto`` means here: onnx-int8 (as good on every set evaluated, ~1.7x faster;
    docs/performance.md) when onnxruntime is installed and the model exports, else torch."""
    if settings.encoder_backend != AUTO:
        return settings.encoder_backend
    if not all(_installed(m) for m in ("onnxruntime", "onnx")):
        log.info("encoder backend auto: torch (install the 'fast' extra for onnx-int8)")
        return TORCH
    try:
        check_exportable(resolve_model(settings.model)[0])
    except ExportError as exc:
        log.info("encoder backend auto: torch (%s)", exc)
        return TORCH
    return ONNX_INT8


def make_encoder(settings: Settings, *, threads: int | None = None) -> Encoder:
    """The encoder the settings name; SettingsError when its backend cannot run here."""
    backend = chosen_backend(settings)
    if backend == TORCH:
        # looked up at call time, so a test harness can stand a fake in for the real class
        return torch_encoder.SentenceTransformerEncoder(settings.model, threads=threads)
    missing = [m for m in ("onnxruntime", "onnx") if not _installed(m)]
    if missing:
        raise SettingsError(
            f"{PREFIX}ENCODER_BACKEND={backend} needs {' and '.join(missing)}: "
            f"pip install 'related-reading[fast]', or set {PREFIX}ENCODER_BACKEND=torch")
    try:
        return OnnxEncoder(settings.model, cache_dir=encoder_cache_dir(settings), threads=threads)
    except ExportError as exc:
        raise SettingsError(f"{PREFIX}ENCODER_BACKEND={backend}: {exc}; "
                            f"set {PREFIX}ENCODER_BACKEND=torch for this model") from None
