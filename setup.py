"""Ships the Alembic migrations inside the package: ``related-reading db upgrade`` must work from a
plain ``pip install .`` (a wheel), not only from an editable checkout.

The revisions stay in ``migrations/`` at the top of the repository (where Alembic's tooling and
developers expect them); building copies them to ``recommender/storage/_migrations`` in the
wheel, which ``recommender.storage.migrations`` looks for first. Everything else is in
pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PACKAGED = Path("recommender") / "storage" / "_migrations"


class BuildWithMigrations(build_py):
    """build_py, plus the migrations copied into the built package."""

    def run(self) -> None:
        super().run()
        if not MIGRATIONS.is_dir():  # building from an sdist without them: fail loudly
            raise SystemExit(f"migrations not found at {MIGRATIONS}")
        target = Path(self.build_lib) / PACKAGED
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(MIGRATIONS, target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithMigrations})
