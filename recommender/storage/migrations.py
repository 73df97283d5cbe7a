"""Running Alembic from our own code (CLI, tests, demo) against any configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

# An installed wheel carries the revisions inside the package (setup.py copies them there at
# build time); a checkout (editable install, tests, CI) has them at the top of the repository.
PACKAGED_DIR = Path(__file__).resolve().parent / "_migrations"
CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "migrations"


def migrations_dir() -> Path:
    """Where the Alembic scripts are: in the installed package, else in the checkout."""
    for candidate in (PACKAGED_DIR, CHECKOUT_DIR):
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError(f"the database migrations are missing (looked in {PACKAGED_DIR} and "
                       f"{CHECKOUT_DIR}); reinstall the package")


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "-1") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    """The revision the database is at (None if never migrated)."""
    from alembic.runtime.migration import MigrationContext

    from recommender.storage.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
