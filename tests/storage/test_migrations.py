"""Every revision up and down on each database, and the migrated schema equals the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from recommender.storage import migrations
from recommender.storage.engine import make_engine
from recommender.storage.schema import Base


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_every_revision(db_url: str) -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config(db_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions, "no migrations found"
    for rev in revisions:
        migrations.upgrade(db_url, rev)
        assert migrations.current(db_url) == rev
    assert _tables(db_url) == set(Base.metadata.tables)
    for rev in reversed(revisions):
        assert migrations.current(db_url) == rev
        migrations.downgrade(db_url, "-1")
    assert migrations.current(db_url) is None
    assert _tables(db_url) == set()


def test_migrated_schema_matches_models(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
