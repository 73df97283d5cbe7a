"""Running Alembic from our own code (CLI, tests, demo) against any configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    if not MIGRATIONS_DIR.is_dir():
        raise RuntimeError(f"migrations directory not found at {MIGRATIONS_DIR}; "
                           "install the project in editable mode (pip install -e .)")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
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
