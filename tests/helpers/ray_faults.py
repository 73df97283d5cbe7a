"""Faults for the Ray engine's tests (tests/jobs/test_ray_engine.py): workers that die once, and
an encoder that always fails on one article. They run inside Ray's worker processes, so they
are plain importable classes (the workers find ``tests`` on the PYTHONPATH the test sets)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommender.catalog.items import Curations
from recommender.embedding.encoder import Vectors
from tests.helpers.fakes import FakeEncoder


def first_time(marker: str) -> bool:
    """True for exactly one caller across processes: the one that creates ``marker``."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


class DyingOnceEncoder(FakeEncoder):
    """The fake encoder, except that the first batch anywhere kills its worker process outright
    (as the kernel's OOM killer would): Ray must restart the actor and redo the batch."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def encode(self, texts: Sequence[str]) -> Vectors:
        if first_time(self.marker):
            os._exit(1)
        return super().encode(texts)


class PoisonEncoder(FakeEncoder):
    """The fake encoder, failing every time it meets ``poison`` in a text."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison

    def encode(self, texts: Sequence[str]) -> Vectors:
        if any(self.poison in t for t in texts):
            raise RuntimeError(f"cannot embed a text with {self.poison!r}")
        return super().encode(texts)


@dataclass
class DyingOnceCurations(Curations):
    """Curations whose first unpickling anywhere kills the process: the first lists task to
    receive them dies mid-task, and Ray must retry it on a new worker."""

    marker: str = ""

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("marker") and first_time(state["marker"]):
            os._exit(1)
        self.__dict__.update(state)


def fake_ray_package(root: Path) -> Path:
    """A directory whose ``ray`` package fails to import, as on a machine without Ray: put it
    first on PYTHONPATH."""
    package = root / "ray"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("raise ImportError('No module named ray (test stand-in)')\n")
    return root
