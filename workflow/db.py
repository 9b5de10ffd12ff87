"""Engines, sessions and the unit of work.

One unit of work per command or request, committed in one place (:func:`Database.unit_of_work`).
SQLite gets its pragmas on every connection; a unit of work that writes starts with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of one failing
half-way when it upgrades its read lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflow.errors import Conflict
from workflow.messages import N_

SQLITE_BUSY_TIMEOUT_MS = 10_000


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    url_obj = sa.make_url(url)
    if url_obj.get_backend_name() != "sqlite" or url_obj.database in (None, "", ":memory:"):
        return None
    return Path(url_obj.database)


def create_engine(url: str, **kwargs: object) -> Engine:
    url_obj = sa.make_url(url)
    if url_obj.get_backend_name() == "sqlite":
        if url_obj.database and url_obj.database != ":memory:":
            Path(url_obj.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url_obj, **kwargs)
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url_obj, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")  # a power cut loses no commit
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    def __init__(self, url: str, **engine_kwargs: object) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(sqlite_immediate=True)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self, write: bool = True) -> Iterator[Session]:
        """A session whose work is committed once at the end, or rolled back on any error.

        A lost optimistic-locking race surfaces as :class:`Conflict`.
        """
        factory = self._write_sessions if write else self._read_sessions
        session = factory()
        try:
            yield session
            if write:
                session.commit()
            else:
                session.rollback()
        except StaleDataError:
            session.rollback()
            raise Conflict(
                N_("someone else changed this task at the same time; reload it and try again")
            ) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def session(self, write: bool) -> Session:
        """A bare session for callers that commit themselves (a web request)."""
        return (self._write_sessions if write else self._read_sessions)()

    def dispose(self) -> None:
        self.engine.dispose()
