"""The build store with random vectors (no model): atomic writes and flips, checksums, pruning."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recommender.index.builds import BuildError, IndexStore
from recommender.index.vectors import EXACT_SPEC
from tests.helpers.builds import build_vectors, to_previous_layout, write_build
from tests.helpers.vectors import recall

ROOT = Path(__file__).resolve().parents[2]


def test_write_is_invisible_until_flipped(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "b1")
    assert store.current_id() is None and store.current_meta() is None  # written, not serving
    store.flip("b1")
    assert store.current_id() == "b1"
    write_build(store, "b2")
    assert store.current_id() == "b1"  # a crash here leaves b1 serving
    meta = store.current_meta()
    assert meta is not None and meta["build_id"] == "b1" and meta["model_id"] == "m"
    with pytest.raises(BuildError, match="not complete"):
        store.flip("missing")


def test_a_build_lists_and_checksums_every_file(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    meta = write_build(store, "b1", raw=build_vectors(seed=9))
    assert meta["checksummed"] == ["ids.npy", "index.faiss", "notes.txt", "raw.npy",
                                   "vectors.npy"]
    assert (meta["count"], meta["dimension"], meta["index_kind"]) == (50, 16, "flat")
    on_disk = sorted(p.name for p in (tmp_path / "builds" / "b1").iterdir())
    assert on_disk == sorted([*meta["checksummed"], "meta.json"])


@pytest.mark.parametrize("name", ["ids.npy", "vectors.npy", "raw.npy", "index.faiss", "notes.txt"])
def test_corrupt_build_is_refused(tmp_path: Path, name: str) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "b1", raw=build_vectors(seed=9))
    store.load("b1", verify=True)
    with (tmp_path / "builds" / "b1" / name).open("r+b") as fh:
        fh.seek(-1, os.SEEK_END)
        last = fh.read(1)
        fh.seek(-1, os.SEEK_END)
        fh.write(bytes([last[0] ^ 0x7F]))
    with pytest.raises(BuildError, match="checksum"):
        store.load("b1", verify=True)


def test_prune_keeps_newest_and_serving(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    for i in range(5):
        write_build(store, f"b{i}")
    store.flip("b0")
    (tmp_path / "builds" / ".tmp-dead").mkdir()
    removed = store.prune(keep=2)
    left = sorted(p.name for p in (tmp_path / "builds").iterdir())
    assert left == ["b0", "b3", "b4"] and sorted(removed) == ["b1", "b2"]


def test_hnsw_above_the_exact_threshold_with_good_recall(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "exact", n=2000, exact_max=10_000)
    meta = write_build(store, "hnsw", n=2000, exact_max=100)
    assert meta["index_kind"] == "hnsw"
    exact, approx = store.load("exact"), store.load("hnsw")
    assert approx.index.kind == "hnsw" and exact.index.kind == "flat"
    queries = exact.vectors[:200]
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    assert recall(truth, found) > 0.9


KILLED_WRITE = """
import os, signal, sys
import numpy as np
from pathlib import Path
from recommender.index.builds import IndexStore
from recommender.index.vectors import EXACT_SPEC

def die(path):
    path.write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup runs: as if the machine had stopped

vectors = np.eye(8, dtype=np.float32)
IndexStore(Path(sys.argv[1])).write("b2", np.arange(8), vectors, spec=EXACT_SPEC, meta={},
                                    files={"x.bin": die})
"""


def test_a_killed_build_leaves_current_untouched(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "b1")
    store.flip("b1")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(tmp_path)], env=env,
                          check=False, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert (tmp_path / "builds" / ".tmp-b2" / "x.bin").is_file()  # it did get that far
    assert not (tmp_path / "builds" / "b2").exists()
    assert store.current_id() == "b1"
    assert len(store.load("b1", verify=True).ids) == 50
    store.prune(keep=3)
    assert not (tmp_path / "builds" / ".tmp-b2").exists()


def test_a_failed_write_cleans_up_and_keeps_serving(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "b1")
    store.flip("b1")

    def no_space(path: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(BuildError, match="No space left"):
        write_build(store, "b2", files={"x.bin": no_space})
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == ["b1"]
    assert store.current_id() == "b1"


def test_parts_that_do_not_line_up_are_refused(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    vectors = build_vectors(10)
    with pytest.raises(BuildError, match="9 ids for vectors of shape"):
        store.write("b1", np.arange(9), vectors, spec=EXACT_SPEC, meta={})
    with pytest.raises(BuildError, match="raw vectors"):
        store.write("b1", np.arange(10), vectors, spec=EXACT_SPEC, meta={}, raw=vectors[:5])
    with pytest.raises(BuildError, match=r"'ids\.npy' cannot be a file"):
        write_build(store, "b1", files={"ids.npy": lambda path: None})
    with pytest.raises(BuildError, match="not a build id"):
        write_build(store, "../elsewhere")
    assert not (tmp_path / "builds").exists() or not any((tmp_path / "builds").iterdir())


def test_an_inconsistent_build_is_never_loaded(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "b1")
    np.save(tmp_path / "builds" / "b1" / "vectors.npy", build_vectors(40))
    with pytest.raises(BuildError, match="inconsistent"):
        store.load("b1")


def test_a_build_of_the_previous_layout_still_loads(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_build(store, "new")
    write_build(store, "old")
    to_previous_layout(tmp_path / "builds" / "old")
    old, new = store.load("old", verify=True), store.load("new", verify=True)
    assert not isinstance(old.vectors, np.memmap) and isinstance(new.vectors, np.memmap)
    assert np.array_equal(old.vectors, new.vectors) and np.array_equal(old.raw, old.vectors)
    queries = build_vectors(5, seed=3)
    for got, want in zip(old.search(queries, 7), new.search(queries, 7), strict=True):
        assert np.array_equal(got, want)
    (tmp_path / "builds" / "old" / "tag_idf.json").write_text(json.dumps({"a": 2.0}))
    with pytest.raises(BuildError, match="checksum"):
        store.load("old", verify=True)


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_index_package_depends_on_no_ranking_code() -> None:
    """ranking searches the index; an import back (even inside a function) is a cycle."""
    modules = sorted((ROOT / "recommender" / "index").glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        imported = _imported_modules(path)
        assert not {m for m in imported if m.startswith(("recommender.ranking", "recommender.jobs",
                                                         "recommender.live"))}, path.name
