"""Index builds on disk made from random vectors (no model, no ranking), for the store's tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from recommender.embedding.encoder import Vectors
from recommender.index.builds import FileWriter, IndexStore
from recommender.index.vectors import choose_index
from tests.helpers.vectors import clustered_vectors

# the files a build of the previous layout checksummed, in order (its meta listed none)
LEGACY_FILES = ("index.faiss", "ids.npy", "lexical.pkl", "lexical.npz", "tag_idf.json")


def build_vectors(n: int = 50, seed: int = 0) -> Vectors:
    return clustered_vectors(n, dimension=16, clusters=5, spread=0.3, seed=seed)


def write_build(store: IndexStore, build_id: str, n: int = 50, exact_max: int = 1000,
                seed: int = 0, *, raw: Vectors | None = None,
                files: dict[str, FileWriter] | None = None) -> dict[str, Any]:
    """A build of ``n`` clustered vectors for article ids 100, 101, ..., not yet flipped."""
    vectors = build_vectors(n, seed)
    return store.write(build_id, np.arange(100, 100 + n, dtype=np.int64), vectors,
                       spec=choose_index(n, exact_max=exact_max), raw=raw,
                       files=files if files is not None else {"notes.txt": _notes},
                       meta={"model_id": "m"})


def _notes(path: Path) -> None:
    path.write_text("another package's file")


def to_previous_layout(directory: Path) -> None:
    """Turn a build into what the previous version wrote: no vectors.npy (the index held the only
    copy), the ranking's three files, and a checksum over ``LEGACY_FILES`` with no file list."""
    (directory / "vectors.npy").unlink()
    for name in LEGACY_FILES[2:]:
        (directory / name).write_bytes(f"ranking file {name}".encode())
    meta = json.loads((directory / "meta.json").read_text())
    del meta["checksummed"]
    digest = hashlib.sha256()
    for name in LEGACY_FILES:
        digest.update((directory / name).read_bytes())
    meta["checksum"] = digest.hexdigest()
    (directory / "meta.json").write_text(json.dumps(meta))
