"""Vectors kept in memory-mapped ``.npy`` files, with their disk space reserved up front.

A build of a million articles cannot hold its vectors (1.5 GB, twice: raw and smoothed) in a
process that also ranks; mapped files page in what is read and out what was written. But a
write through a mapping into a sparse file on a full disk does not fail with an error: the
kernel kills the process with SIGBUS. So every file is allocated (``posix_fallocate``) before it
is mapped: a full disk is an ``OSError`` (ENOSPC) at allocation, which the build store turns into
a failed build with the previous build still serving.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


def allocate(path: Path, shape: tuple[int, ...], dtype: npt.DTypeLike = np.float32
             ) -> np.memmap[Any, Any]:
    """A new ``.npy`` file at ``path`` of this shape, every byte reserved on disk, mapped for
    writing. Raises OSError (ENOSPC) when the disk cannot hold it, before anything is mapped."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.dtype(dtype), shape=shape)
    try:
        size = os.path.getsize(path)
        fd = os.open(path, os.O_RDWR)
        try:
            if size:
                os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)
    except OSError:
        del array
        path.unlink(missing_ok=True)
        raise
    return array


def flush(array: np.ndarray) -> None:
    """Write a mapped array's dirty pages to its file (a no-op for an in-memory array)."""
    if isinstance(array, np.memmap):
        array.flush()
