"""Alembic environment: URL from our settings, metadata from our models, batch mode on SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from recommender.settings import Settings
from recommender.storage.engine import make_engine
from recommender.storage.schema import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    return str(url) if url else Settings.from_env().database_url


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    backend = connection.dialect.name if connection is not None else (url or "").split(":")[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=backend.startswith("sqlite"),
        compare_type=True,
        literal_binds=connection is None,
    )


def run_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
