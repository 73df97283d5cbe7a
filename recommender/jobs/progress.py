"""Progress of a build's long stages a person can follow: a bar on a terminal, log lines elsewhere.

A million-article build runs for tens of minutes; cron mail and ``journalctl`` need the same
figures a terminal shows (done/total, rate, ETA), so both come from one factory with the shape
``run_build`` takes: ``factory(stage, total) -> update(n)``. Log lines are rate-limited (one every
``interval`` seconds, plus the last), so a stage of a million steps writes a few dozen lines.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

Update = Callable[[int], None]
ProgressFactory = Callable[[str, int], Update]

log = logging.getLogger("related_reading.progress")


def _eta(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class LogProgress:
    """One stage's progress as log lines: ``lists: 20000/100000 (20%), 812/s, ETA 1:38``."""

    def __init__(self, stage: str, total: int, *, interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 emit: Callable[[str], None] | None = None) -> None:
        self.stage, self.total, self.interval = stage, total, interval
        self.done = 0
        self._clock = clock
        self._emit = emit or log.info
        self._started = self._last = clock()

    def line(self) -> str:
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.done / elapsed
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        left = (self.total - self.done) / rate if rate > 0 and self.total else 0.0
        return (f"{self.stage}: {self.done}/{self.total}{share}, {rate:.0f}/s, "
                f"elapsed {_eta(elapsed)}, ETA {_eta(left)}")

    def __call__(self, n: int) -> None:
        self.done += n
        now = self._clock()
        if now - self._last >= self.interval or (self.total and self.done >= self.total):
            self._last = now
            self._emit(self.line())


def log_progress(interval: float = 10.0) -> ProgressFactory:
    """Log lines for each stage (what cron and a service manager record)."""

    def make(stage: str, total: int) -> Update:
        return LogProgress(stage, total, interval=interval)

    return make


def bar_progress(stream: Any = None) -> ProgressFactory:
    """tqdm bars (rate and ETA) on a terminal."""
    from tqdm import tqdm

    def make(stage: str, total: int) -> Update:
        bar = tqdm(total=total, desc=stage, unit="it", leave=True, file=stream or sys.stderr,
                   dynamic_ncols=True, smoothing=0.1)

        def update(n: int) -> None:
            bar.update(n)
            if bar.n >= total:
                bar.close()

        return update

    return make


def progress_for(*, tty: bool, quiet: bool) -> ProgressFactory | None:
    """Bars on a terminal, log lines otherwise, nothing with ``--quiet``."""
    if quiet:
        return None
    return bar_progress() if tty else log_progress()
