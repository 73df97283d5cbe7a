"""The same model on ONNX Runtime with int8 weights: ~1.7x the torch encoder's articles/s on CPU.

Same tokenisation (the model's own ``tokenizer.json``, truncated at its max sequence length, as
sentence-transformers does), mean pooling and L2 normalisation (inside the exported graph);
embeddings stay at cosine >= 0.99 to torch's on news articles (docs/performance.md). Nothing is
imported or loaded before the first ``encode``, as with the torch encoder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recommender.embedding import onnx_export
from recommender.embedding.encoder import Vectors, normalize_rows, resolve_model
from recommender.settings import BUNDLED_MODEL

ONNX_INT8 = "onnx-int8"


class OnnxEncoder:
    """all-MiniLM-L6-v2 (or a compatible local model) as a cached int8 ONNX graph.

    One text per run by default: dynamic quantisation picks its activation scales per run over
    the whole input, padding included, so in a batch a text's vector would depend on its
    neighbours (by up to ~0.01 per component). On CPU, batching full articles bought nothing
    measurable (docs/performance.md), and a vector that is a function of its text alone keeps an
    incremental update equal to a full build.
    """

    backend = ONNX_INT8

    def __init__(self, model: str = BUNDLED_MODEL, *, cache_dir: Path, batch_size: int = 1,
                 threads: int | None = None) -> None:
        self._path, self._model_id = resolve_model(model)
        self._max_length = onnx_export.check_exportable(self._path)  # refuse early, not at 3 a.m.
        self._cache_dir = Path(cache_dir)
        self._batch_size = batch_size
        self._threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        pooling = onnx_export.read_json(Path(self._path) / "1_Pooling" / "config.json")
        return int(pooling["word_embedding_dimension"])

    @property
    def onnx_path(self) -> Path:
        """The verified cached file (exported on first use)."""
        return onnx_export.cached_onnx(self._path, self._cache_dir)

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                from tokenizers import Tokenizer

                ort = onnx_export.import_onnxruntime()  # telemetry off

                options = ort.SessionOptions()
                if self._threads:
                    options.intra_op_num_threads = self._threads
                    options.inter_op_num_threads = 1
                self._session = ort.InferenceSession(str(self.onnx_path), options,
                                                     providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(Path(self._path) / "tokenizer.json"))
                tokenizer.no_padding()  # padded per batch below, to the batch's longest text
                tokenizer.enable_truncation(self._max_length)
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(list(texts))
        # longest first, as sentence-transformers does: batches of similar length pad little
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start:start + self._batch_size]
            feed = _pad([encodings[i] for i in rows])
            out[rows] = session.run(None, feed)[0]
        return normalize_rows(out)


def _pad(encodings: Sequence[Any]) -> dict[str, np.ndarray]:
    width = max(len(e.ids) for e in encodings)
    feed = {name: np.zeros((len(encodings), width), dtype=np.int64)
            for name in onnx_export.INPUTS}
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        feed["input_ids"][row, :n] = enc.ids
        feed["attention_mask"][row, :n] = enc.attention_mask
        feed["token_type_ids"][row, :n] = enc.type_ids
    return feed
