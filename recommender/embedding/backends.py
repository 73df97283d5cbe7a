"""Which encoder a deployment runs (``RELATED_ENCODER_BACKEND``), and which one made a vector.

Two backends run the same model: ``torch`` (sentence-transformers) and ``onnx-int8`` (the model
exported once to ONNX and quantised, ``onnx_encoder``). Their vectors agree to cosine >= 0.99 but
are not identical, so every cached vector records its backend and an index never mixes them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from recommender.embedding import encoder as torch_encoder
from recommender.embedding.encoder import Encoder
from recommender.embedding.onnx_encoder import ONNX_INT8, OnnxEncoder
from recommender.embedding.onnx_export import ExportError
from recommender.settings import PREFIX, Settings, SettingsError

TORCH = "torch"
BACKENDS = (TORCH, ONNX_INT8)


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


def make_encoder(settings: Settings, *, threads: int | None = None) -> Encoder:
    """The encoder the settings name; SettingsError when its backend cannot run here."""
    if settings.encoder_backend == TORCH:
        # looked up at call time, so a test harness can stand a fake in for the real class
        return torch_encoder.SentenceTransformerEncoder(settings.model, threads=threads)
    missing = [m for m in ("onnxruntime", "onnx") if not _installed(m)]
    if missing:
        raise SettingsError(
            f"{PREFIX}ENCODER_BACKEND={settings.encoder_backend} needs {' and '.join(missing)}: "
            f"pip install 'related-reading[fast]', or set {PREFIX}ENCODER_BACKEND=torch")
    try:
        return OnnxEncoder(settings.model, cache_dir=encoder_cache_dir(settings), threads=threads)
    except ExportError as exc:
        raise SettingsError(f"{PREFIX}ENCODER_BACKEND={settings.encoder_backend}: {exc}; "
                            f"set {PREFIX}ENCODER_BACKEND=torch for this model") from None
