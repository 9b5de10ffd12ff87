"""Run the Alembic migrations in ``migrations/`` against the engine's database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from workflow.config import PROJECT_ROOT
from workflow.db import Database
from workflow.errors import ConfigError

MIGRATIONS = PROJECT_ROOT / "migrations"


def alembic_config(database: Database) -> Config:
    if not (MIGRATIONS / "env.py").exists():
        raise ConfigError(
            f"{MIGRATIONS}: migrations not found; install nhiemvu from its source tree "
            "(pip install -e .)"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database"] = database
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(database), revision)


def head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(database: Database) -> bool:
    return current_revision(database) == head_revision(database)
