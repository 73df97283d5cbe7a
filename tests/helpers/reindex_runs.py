"""Running ``related-reading reindex`` on the demo catalogue in a subprocess with the fake encoder
(tests/helpers/reindex_harness.py), for the nightly job's tests and the command's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from recommender.settings import Settings
from tests.helpers.demo import load_demo

HARNESS = Path(__file__).resolve().parent / "reindex_harness.py"


def demo_site(data_dir: Path) -> dict[str, str]:
    """The demo catalogue imported (not built) on SQLite in ``data_dir``; returns the
    environment for subprocess runs."""
    env = {**os.environ, "RELATED_DATA_DIR": str(data_dir)}
    env.pop("RELATED_DATABASE_URL", None)
    engine, _ = load_demo(Settings.from_env({"RELATED_DATA_DIR": env["RELATED_DATA_DIR"]}))
    engine.dispose()
    return env


def site_settings(env: dict[str, str]) -> Settings:
    return Settings.from_env({"RELATED_DATA_DIR": env["RELATED_DATA_DIR"]})


def run_reindex(env: dict[str, str], *args: str, **extra: str) -> tuple[int, dict[str, object], str]:
    """(exit code, the JSON summary on the last stdout line, stderr)."""
    proc = subprocess.run([sys.executable, str(HARNESS), *args], env={**env, **extra},
                          capture_output=True, text=True, timeout=300)
    last = proc.stdout.strip().splitlines()[-1]
    return proc.returncode, json.loads(last), proc.stderr
