"""The migrations build exactly the schema the models describe, and can be undone and redone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from workflow import migrate
from workflow.db import Database
from workflow.models import Base


def _differences(database: Database) -> list:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrated_schema_matches_the_models(migrated):
    assert _differences(migrated) == []
    assert migrate.is_current(migrated)


def test_downgrade_to_empty_and_upgrade_again(migrated, engine):
    migrate.upgrade(migrated, "head")
    from alembic import command

    command.downgrade(migrate.alembic_config(migrated), "base")
    assert migrate.current_revision(migrated) is None
    migrate.upgrade(migrated)
    assert _differences(migrated) == []
