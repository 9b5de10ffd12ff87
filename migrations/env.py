"""Alembic environment: the engine's own database, batch mode for SQLite.

SQLite rebuilds a table to alter it; with foreign keys on, dropping the old copy of a parent
table would cascade into its children, so they are switched off while migrating.
"""

from __future__ import annotations

from alembic import context

from workflow.db import Database
from workflow.models import Base

config = context.config


def _database() -> Database:
    database = config.attributes.get("database")
    if database is None:  # run by the alembic command itself
        from workflow.config import load_settings

        database = Database(load_settings().database_url)
    return database


def run_migrations_online() -> None:
    database = _database()
    with database.engine.connect() as connection:
        if database.is_sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if database.is_sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run nhiemvu init")
run_migrations_online()
