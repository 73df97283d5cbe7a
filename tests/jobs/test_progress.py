"""Progress of long stages: log lines carry what a terminal bar shows (done, rate, ETA)."""

from __future__ import annotations

import logging

import pytest

from recommender.jobs.progress import LogProgress, bar_progress, log_progress, progress_for


def test_log_lines_carry_rate_and_eta_and_are_rate_limited() -> None:
    now = [0.0]
    lines: list[str] = []
    stage = LogProgress("lists", 1000, interval=10, clock=lambda: now[0], emit=lines.append)
    now[0] = 5.0
    stage(100)  # before the interval: nothing
    now[0] = 10.0
    stage(100)
    assert lines == ["lists: 200/1000 (20%), 20/s, elapsed 0:10, ETA 0:40"]
    now[0] = 50.0
    stage(800)  # the last step always logs
    assert lines[-1] == "lists: 1000/1000 (100%), 20/s, elapsed 0:50, ETA 0:00"


def test_hours_are_shown_as_such() -> None:
    now = [0.0]
    lines: list[str] = []
    stage = LogProgress("embedding", 1_000_000, interval=0, clock=lambda: now[0],
                        emit=lines.append)
    now[0] = 100.0
    stage(10_000)
    assert lines == ["embedding: 10000/1000000 (1%), 100/s, elapsed 1:40, ETA 2:45:00"]


def test_log_factory_logs_through_logging(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="related_reading.progress"):
        update = log_progress(interval=0)("swap", 10)
        update(10)
    assert "swap: 10/10 (100%)" in caplog.text


def test_terminal_bars_and_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    assert progress_for(tty=False, quiet=True) is None
    assert progress_for(tty=True, quiet=True) is None
    assert progress_for(tty=False, quiet=False) is not None
    update = bar_progress(sys.stderr)("index (flat)", 4)
    update(2)
    update(2)
    err = capsys.readouterr().err
    assert "index (flat)" in err and "4/4" in err and "it/s" in err
