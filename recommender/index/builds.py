"""The build store: immutable index builds on disk, flipped atomically, loaded with memory mapping.

A build is written into a hidden temporary directory, renamed into ``builds/<id>`` when complete,
and only then named in the ``CURRENT`` file (replaced atomically). A build that fails or is killed
at any point leaves ``CURRENT`` naming the previous, complete build.

A build directory holds the vector index, the article ids, the indexed vectors (``vectors.npy``,
mapped on load: the same rows for every backend, and what a catalogue too large for RAM needs),
optionally the vectors before smoothing (``raw.npy``), files other packages hand over (the
ranking's lexical model, TF-IDF rows and tag IDF) and ``meta.json``, which names and checksums
them all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.embedding.encoder import Vectors
from recommender.index.factory import build_index, load_index
from recommender.index.loaded import LoadedBuild
from recommender.index.vectors import IndexSpec, VectorIndex

INDEX_FILE, IDS_FILE, META_FILE = "index.faiss", "ids.npy", "meta.json"
VECTORS_FILE = "vectors.npy"
RAW_FILE = "raw.npy"  # the embeddings before smoothing (ranking/smoothing.py)
STORE_FILES = frozenset({INDEX_FILE, IDS_FILE, META_FILE, VECTORS_FILE, RAW_FILE})
# What a build written before vectors.npy checksummed, in this order: its meta lists no files.
# (The last three are the ranking's files; their names are fixed in those builds.)
LEGACY_CHECKSUMMED = (INDEX_FILE, IDS_FILE, "lexical.pkl", "lexical.npz", "tag_idf.json")

FileWriter = Callable[[Path], None]


class BuildError(RuntimeError):
    """A build could not be written or loaded; the serving build is untouched."""


def _checksum(directory: Path, names: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
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


def _check_input(ids: npt.NDArray[np.int64], vectors: Vectors, raw: Vectors | None,
                 files: Mapping[str, FileWriter]) -> None:
    """Refuse a build whose parts do not line up before writing any of it."""
    if vectors.ndim != 2 or len(ids) != len(vectors):
        raise BuildError(f"{len(ids)} ids for vectors of shape {vectors.shape}")
    if raw is not None and raw.shape != vectors.shape:
        raise BuildError(f"raw vectors of shape {raw.shape} beside vectors of {vectors.shape}")
    for name in files:
        if name in STORE_FILES or not name or name.startswith(".") or "/" in name:
            raise BuildError(f"{name!r} cannot be a file of a build")


def _check_loaded(build_id: str, meta: dict[str, Any], ids: npt.NDArray[np.int64],
                  index: VectorIndex, vectors: Vectors, raw: Vectors) -> None:
    """A build whose parts disagree is never served (a half-copied or hand-edited directory)."""
    sizes = {len(ids), len(index), len(vectors), len(raw), int(meta.get("count", len(ids)))}
    if len(sizes) != 1:
        raise BuildError(f"build {build_id} is inconsistent: its ids, index, vectors and meta "
                         f"disagree on its size ({sorted(sizes)})")


class IndexStore:
    """The index directory: ``builds/<id>/`` plus a ``CURRENT`` file naming the serving build."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.builds = root / "builds"
        self.current_file = root / "CURRENT"

    def directory(self, build_id: str) -> Path:
        if not build_id or build_id.startswith(".") or "/" in build_id or "\\" in build_id:
            raise BuildError(f"{build_id!r} is not a build id")
        return self.builds / build_id

    def staging(self, build_id: str) -> Path:
        """A new, empty hidden directory where ``build_id`` is assembled (large files, such as
        memory-mapped vectors, are written here directly); ``write(..., staged=True)`` completes
        it. Never served: a build killed while staging leaves only this, removed by ``prune``."""
        self.directory(build_id)  # validates the id
        tmp = self.builds / f".tmp-{build_id}"
        try:
            self.builds.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
        except OSError as exc:
            raise BuildError(f"cannot write index build in {self.builds}: {exc}") from exc
        return tmp

    def write(self, build_id: str, ids: npt.NDArray[np.int64], vectors: Vectors, *,
              spec: IndexSpec, meta: dict[str, Any], raw: Vectors | None = None,
              files: Mapping[str, FileWriter] | None = None, staged: bool = False,
              index: VectorIndex | None = None) -> dict[str, Any]:
        """Write a complete build directory (not yet serving); returns its meta.

        ``vectors`` are indexed with an index of ``spec`` (or ``index``, already built over
        them); ``files`` maps the name of each other file of the build to a function that writes
        it at the path it is given. With ``staged`` the staging directory already holds what the
        caller wrote there (vectors.npy and raw.npy, when ``vectors``/``raw`` are mapped from it).
        """
        files = files or {}
        if not isinstance(vectors, np.memmap):
            vectors = np.asarray(vectors, dtype=np.float32)
        _check_input(ids, vectors, raw, files)
        final = self.directory(build_id)
        tmp = self.builds / f".tmp-{build_id}"
        try:
            if not staged:
                self.staging(build_id)
            if index is None:
                index = build_index(vectors, spec)
            index.save(tmp / INDEX_FILE)
            np.save(tmp / IDS_FILE, np.asarray(ids, dtype=np.int64))
            for name, array in ((VECTORS_FILE, vectors), (RAW_FILE, raw)):
                if array is None:
                    continue
                if isinstance(array, np.memmap) and array.filename is not None \
                        and Path(array.filename) == (tmp / name).resolve():
                    array.flush()  # already in place
                else:
                    np.save(tmp / name, np.asarray(array, dtype=np.float32))
            for name, write in files.items():
                write(tmp / name)
            checksummed = sorted(p.name for p in tmp.iterdir())
            full_meta = {**meta, "build_id": build_id, "count": len(ids), "index_kind": index.kind,
                         "dimension": int(vectors.shape[1]), "checksummed": checksummed,
                         "checksum": _checksum(tmp, checksummed)}
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
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def flip(self, build_id: str) -> None:
        """Make ``build_id`` the serving build with one atomic rename."""
        if not (self.directory(build_id) / META_FILE).is_file():
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
            meta: dict[str, Any] = json.loads((self.directory(current) / META_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise BuildError(f"cannot read build {current}: {exc}") from exc
        return meta

    def load(self, build_id: str, *, verify: bool = False) -> LoadedBuild:
        """The build, memory-mapped; ``verify`` first checks every file against its checksum."""
        directory = self.directory(build_id)
        try:
            meta = json.loads((directory / META_FILE).read_text())
            if verify and _checksum(directory, meta.get("checksummed", LEGACY_CHECKSUMMED)) \
                    != meta["checksum"]:
                raise BuildError(f"build {build_id} is corrupt (checksum mismatch)")
            index = load_index(directory / INDEX_FILE, mmap=True)
            ids = np.asarray(np.load(directory / IDS_FILE, mmap_mode="r"))
            vectors_file = directory / VECTORS_FILE
            # a build written before vectors.npy: the index gives them back (a copy in memory)
            vectors = np.load(vectors_file, mmap_mode="r") if vectors_file.is_file() \
                else index.reconstruct()
            raw_file = directory / RAW_FILE
            raw = np.load(raw_file, mmap_mode="r") if raw_file.is_file() else vectors
            _check_loaded(build_id, meta, ids, index, vectors, raw)
            return LoadedBuild(build_id=build_id, meta=meta, directory=directory, ids=ids,
                               index=index, vectors=vectors, raw=raw)
        except BuildError:
            raise
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise BuildError(f"cannot load build {build_id}: {exc}") from exc

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` builds (never the serving one) and stale temps."""
        if not self.builds.is_dir():
            return []
        current = self.current_id()
        for tmp in [*self.builds.glob(".tmp-*"), *self.builds.glob(".lists-*")]:
            shutil.rmtree(tmp, ignore_errors=True)
        builds = sorted((p for p in self.builds.iterdir() if not p.name.startswith(".")),
                        key=lambda p: p.name, reverse=True)
        removed = []
        for path in builds[keep:]:
            if path.name != current:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed
