"""Every revision up and down on each database, and the migrated schema equals the models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
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


def test_the_migrations_are_found_installed_or_in_a_checkout(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A wheel carries them in recommender/storage/_migrations (setup.py copies them there;
    tests/test_install.py installs one); a checkout has them at the top. Neither: a clear error."""
    assert migrations.migrations_dir() == migrations.CHECKOUT_DIR
    packaged = tmp_path / "_migrations"
    shutil.copytree(migrations.CHECKOUT_DIR, packaged)
    monkeypatch.setattr(migrations, "PACKAGED_DIR", packaged)
    assert migrations.migrations_dir() == packaged
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrations.upgrade(url)
    assert migrations.current(url) is not None
    monkeypatch.setattr(migrations, "PACKAGED_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(migrations, "CHECKOUT_DIR", tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match="migrations are missing"):
        migrations.alembic_config(url)
