"""A clean install with a stock pip works (issue #17, item 12): the wheel, installed (not editable)
into a fresh ``python -m venv`` with the pip that venv ships, runs ``db upgrade``, ``import``,
``reindex`` and ``serve``.

Slow (it installs torch and every dependency into a new virtualenv, from pip's local wheel
directory and cache where it can), so it is one test, marked ``install``, and CI runs it once.
It runs in a temporary directory with no PYTHONPATH, so nothing can come from this checkout: the
migrations must be inside the package, every import must be declared, and a stock pip (23.x, which
does not resolve extras of extras such as ``lxml[html_clean]``) must find everything.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "recommender", "web",
           "migrations")
TORCH = "torch==2.13.0"

pytestmark = pytest.mark.install


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 900) -> str:
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    return proc.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_a_wheel_installed_with_stock_pip_upgrades_imports_reindexes_and_serves(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RELATED_", "PYTHON", "VIRTUAL_ENV", "PROMETHEUS_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")

    # a copy of the source: building writes build/ and *.egg-info next to it
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_migrations")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)

    venv = tmp_path / "v"
    _run([sys.executable, "-m", "venv", str(venv)], env, tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    stock = _run([*pip, "--version"], env, tmp_path).split()[1]
    print(f"stock pip {stock}")

    dist = tmp_path / "dist"
    _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(dist), str(src)], env, tmp_path)
    wheel = next(dist.glob("related_reading-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "recommender/storage/_migrations/env.py" in names
    assert "recommender/storage/_migrations/versions/0001_initial_schema.py" in names
    assert "web/templates/editor/base.html" in names

    _run([*pip, "install", "--no-compile", TORCH], env, tmp_path)  # first: the CPU wheel
    _run([*pip, "install", "--no-compile", str(wheel)], env, tmp_path)
    assert _run([*pip, "--version"], env, tmp_path).split()[1] == stock  # still the stock pip

    work = tmp_path / "site"  # no checkout here: only the installed package can answer
    work.mkdir()
    env["RELATED_DATA_DIR"] = str(work / "data")
    cli = str(venv / "bin" / "related-reading")
    assert "database at revision" in _run([cli, "db", "upgrade"], env, work)
    demo = sorted(str(p) for p in (ROOT / "recommender" / "demo_data").glob("*.jsonl"))
    imported = _run([cli, "import", *demo], env, work)
    assert '"added": 86' in imported
    _run([cli, "reindex"], env, work, timeout=1200)

    port = _free_port()
    with subprocess.Popen([cli, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                          env=env, cwd=work, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as server:
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    status, body = _get(f"http://127.0.0.1:{port}/healthz")
                    break
                except OSError:
                    assert server.poll() is None, f"serve exited:\n{server.stderr.read()[-4000:]}"
                    assert time.monotonic() < deadline, "serve never answered /healthz"
                    time.sleep(0.5)
            assert status == 200 and b'"ok"' in body
            status, body = _get(f"http://127.0.0.1:{port}/api/v1/articles/demo-001/related")
            assert status == 200 and b'"items"' in body
        finally:
            server.terminate()
            server.wait(timeout=60)
