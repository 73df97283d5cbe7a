"""Mapped vector files: space reserved before mapping, so a full disk is an error, not SIGBUS."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from recommender.index.mapped import allocate, flush


def test_allocate_reserves_every_byte_and_maps_for_writing(tmp_path: Path) -> None:
    array = allocate(tmp_path / "v.npy", (1000, 64))
    array[:] = 1.5
    flush(array)
    stat = os.stat(tmp_path / "v.npy")
    assert stat.st_blocks * 512 >= 1000 * 64 * 4  # not a sparse file
    assert np.array_equal(np.load(tmp_path / "v.npy"), np.full((1000, 64), 1.5, np.float32))
    flush(np.zeros(3))  # an in-memory array: nothing to do


def test_an_empty_matrix_is_a_valid_file(tmp_path: Path) -> None:
    allocate(tmp_path / "e.npy", (0, 8))
    assert np.load(tmp_path / "e.npy", mmap_mode="r").shape == (0, 8)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_is_an_error_before_mapping(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        with pytest.raises(OSError) as caught:
            allocate(disk / "big.npy", (10_000, 384))  # 15 MB on a 1 MB disk
        assert caught.value.errno == errno.ENOSPC
        assert not (disk / "big.npy").exists()  # nothing half-written left behind
        small = allocate(disk / "small.npy", (100, 384))  # the space was given back
        assert small.shape == (100, 384)
        del small
    finally:
        subprocess.run(["umount", str(disk)], check=True)
