"""Immutable FAISS index builds on disk, flipped atomically, loaded with memory mapping.

A build is written into a hidden temporary directory, renamed into ``builds/<id>`` when complete,
and only then named in the ``CURRENT`` file (replaced atomically). A build that fails or is killed
at any point leaves ``CURRENT`` naming the previous, complete build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from recommender.embedding.encoder import Vectors
from recommender.ranking.lexical import LexicalModel
from recommender.ranking.smoothing import Smoothing

INDEX_FILE, IDS_FILE, META_FILE = "index.faiss", "ids.npy", "meta.json"
LEXICAL_FILE, LEXICAL_MATRIX_FILE, TAGS_FILE = "lexical.pkl", "lexical.npz", "tag_idf.json"
RAW_FILE = "raw.npy"  # the embeddings before smoothing (recommender/smoothing.py)
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128


class BuildError(RuntimeError):
    """A build could not be written or loaded; the serving build is untouched."""


@dataclass
class LoadedBuild:
    """One build, loaded: vector search by position, lexical rows aligned with ``ids``."""

    build_id: str
    meta: dict[str, Any]
    ids: npt.NDArray[np.int64]
    index: Any
    lexical: LexicalModel
    lexical_matrix: sparse.csr_matrix
    tag_idf: dict[str, float]
    positions: dict[int, int] = field(default_factory=dict)

    vectors: Vectors = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    raw: Vectors | None = None  # None: the indexed vectors are the raw embeddings

    def __post_init__(self) -> None:
        self.positions = {int(a): i for i, a in enumerate(self.ids)}
        self.vectors = _stored_vectors(self.index)
        if self.raw is None:
            self.raw = self.vectors

    @property
    def smoothing(self) -> Smoothing:
        return Smoothing.from_dict(self.meta.get("smoothing"))

    def search(self, queries: Vectors, k: int) -> tuple[npt.NDArray[np.float32],
                                                        npt.NDArray[np.int64]]:
        """(similarities, article ids) of the ``k`` nearest per query; -1 pads short rows."""
        if len(self.ids) == 0 or len(queries) == 0:
            shape = (len(queries), 0)
            return np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.int64)
        k = min(k, len(self.ids))
        scores, positions = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        ids = np.where(positions >= 0, self.ids[np.clip(positions, 0, None)], -1)
        return scores.astype(np.float32), ids.astype(np.int64)

    def vector(self, article_id: int) -> Vectors | None:
        position = self.positions.get(article_id)
        # a copy: a view would point into the index's memory, freed with the build
        return None if position is None else np.array(self.vectors[position], dtype=np.float32)


def _stored_vectors(index: Any) -> Vectors:
    """A zero-copy (memory-mapped) view of the raw vectors of a flat or HNSW index."""
    import faiss

    storage: Any = faiss.downcast_index(index.storage) if hasattr(index, "storage") else index
    n, d = int(storage.ntotal), int(storage.d)
    if n == 0:
        return np.zeros((0, d), dtype=np.float32)
    view: Vectors = faiss.rev_swig_ptr(storage.get_xb(), n * d).reshape(n, d)
    return view


def make_faiss_index(vectors: Vectors, exact_max: int) -> tuple[Any, str]:
    """Exact inner product up to ``exact_max`` vectors, HNSW past it."""
    import faiss

    dimension = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[1] else 1
    index: Any
    if len(vectors) <= exact_max:
        index, kind = faiss.IndexFlatIP(dimension), "flat"
    else:
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        kind = "hnsw"
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


def _checksum(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in (INDEX_FILE, IDS_FILE, LEXICAL_FILE, LEXICAL_MATRIX_FILE, TAGS_FILE):
        with (directory / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexStore:
    """The index directory: ``builds/<id>/`` plus a ``CURRENT`` file naming the serving build."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.builds = root / "builds"
        self.current_file = root / "CURRENT"

    def write(self, build_id: str, ids: npt.NDArray[np.int64], vectors: Vectors, *,
              lexical: LexicalModel, lexical_matrix: sparse.csr_matrix,
              tag_idf: dict[str, float], meta: dict[str, Any], exact_max: int,
              raw: Vectors | None = None) -> dict[str, Any]:
        """Write a complete build directory (not yet serving); returns its meta."""
        import faiss

        final = self.builds / build_id
        tmp = self.builds / f".tmp-{build_id}"
        try:
            self.builds.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            index, kind = make_faiss_index(vectors, exact_max)
            faiss.write_index(index, str(tmp / INDEX_FILE))
            np.save(tmp / IDS_FILE, np.asarray(ids, dtype=np.int64))
            if raw is not None:
                np.save(tmp / RAW_FILE, np.asarray(raw, dtype=np.float32))
            lexical.save(tmp / LEXICAL_FILE)
            sparse.save_npz(tmp / LEXICAL_MATRIX_FILE, lexical_matrix)
            (tmp / TAGS_FILE).write_text(json.dumps(tag_idf))
            full_meta = {**meta, "build_id": build_id, "count": len(ids), "index_kind": kind,
                         "dimension": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
                         "checksum": _checksum(tmp)}
            (tmp / META_FILE).write_text(json.dumps(full_meta, indent=2))
            for item in tmp.iterdir():
                with item.open("rb") as fh:
                    os.fsync(fh.fileno())
            os.replace(tmp, final)
            _fsync_dir(self.builds)
            return full_meta
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise BuildError(f"cannot write index build in {self.builds}: {exc}") from exc

    def flip(self, build_id: str) -> None:
        """Make ``build_id`` the serving build with one atomic rename."""
        if not (self.builds / build_id / META_FILE).is_file():
            raise BuildError(f"build {build_id} is not complete")
        tmp = self.root / f".CURRENT.{os.getpid()}"
        try:
            tmp.write_text(build_id)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.current_file)
            _fsync_dir(self.root)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise BuildError(f"cannot switch to build {build_id}: {exc}") from exc

    def current_id(self) -> str | None:
        try:
            return self.current_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def current_meta(self) -> dict[str, Any] | None:
        """The serving build's meta.json alone: enough to decide whether to rebuild, without
        loading FAISS, the index or the lexical model (most of a no-change nightly run)."""
        current = self.current_id()
        if current is None:
            return None
        try:
            meta: dict[str, Any] = json.loads((self.builds / current / META_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise BuildError(f"cannot read build {current}: {exc}") from exc
        return meta

    def load(self, build_id: str, *, verify: bool = False) -> LoadedBuild:
        import faiss

        directory = self.builds / build_id
        try:
            meta = json.loads((directory / META_FILE).read_text())
            if verify and _checksum(directory) != meta["checksum"]:
                raise BuildError(f"build {build_id} is corrupt (checksum mismatch)")
            index = faiss.read_index(str(directory / INDEX_FILE), faiss.IO_FLAG_MMAP_IFC)
            ids = np.load(directory / IDS_FILE, mmap_mode="r")
            raw_file = directory / RAW_FILE
            raw = np.load(raw_file, mmap_mode="r") if raw_file.is_file() else None
            return LoadedBuild(
                build_id=build_id, meta=meta, ids=np.asarray(ids), index=index,
                lexical=LexicalModel.load(directory / LEXICAL_FILE),
                lexical_matrix=sparse.csr_matrix(sparse.load_npz(directory / LEXICAL_MATRIX_FILE)),
                tag_idf=json.loads((directory / TAGS_FILE).read_text()), raw=raw,
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            if isinstance(exc, BuildError):
                raise
            raise BuildError(f"cannot load build {build_id}: {exc}") from exc

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` builds (never the serving one) and stale temps."""
        if not self.builds.is_dir():
            return []
        current = self.current_id()
        for tmp in self.builds.glob(".tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
        builds = sorted((p for p in self.builds.iterdir() if not p.name.startswith(".")),
                        key=lambda p: p.name, reverse=True)
        removed = []
        for path in builds[keep:]:
            if path.name != current:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed


class BuildCache:
    """The serving build for long-lived readers: reloads when ``CURRENT`` changes, no restart."""

    def __init__(self, store: IndexStore) -> None:
        self._store = store
        self._build: LoadedBuild | None = None
        self._lock = threading.Lock()

    def get(self) -> LoadedBuild | None:
        current = self._store.current_id()
        if current is None:
            return None
        build = self._build
        if build is not None and build.build_id == current:
            return build
        with self._lock:
            if self._build is None or self._build.build_id != current:
                self._build = self._store.load(current)
            return self._build
