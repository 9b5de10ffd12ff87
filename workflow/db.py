"""Engines, sessions and the unit of work.

One unit of work per command or request, committed in one place (:func:`Database.unit_of_work`).
SQLite gets its pragmas on every connection; a unit of work that writes starts with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of one failing
half-way when it upgrades its read lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
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

    writers = _WriterQueue()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if not connection.get_execution_options().get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN")
            return
        writers.enter(connection.connection.dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(connection.connection.dbapi_connection)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection) -> None:
        writers.leave(connection.connection.dbapi_connection)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection, _record) -> None:
        writers.leave(dbapi_connection)  # however the transaction ended, the turn is over


class _WriterQueue:
    """The threads of one process that want to write take turns in the order they came.

    SQLite lets one writer in at a time and makes the others poll (``busy_timeout``): a poller
    sleeps, wakes, and may find a newcomer got in first, again and again. Under a steady stream
    of writes from several threads (a busy web server) one request could so wait past the
    timeout and fail with "database is locked". Taking a ticket here first, the threads of
    this process reach SQLite one by one, first come first served, and SQLite's polling only
    arbitrates between processes (a web server and the scheduler), where it is rare.
    """

    def __init__(self, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
        self.timeout = timeout
        self._turns = threading.Condition()
        self._next = self._serving = 0
        self._abandoned: set[int] = set()
        self._holder: object | None = None

    def enter(self, dbapi_connection: object) -> None:
        with self._turns:
            ticket = self._next
            self._next += 1
            if not self._turns.wait_for(lambda: self._serving == ticket, self.timeout):
                self._abandoned.add(ticket)
                raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
            self._holder = dbapi_connection

    def leave(self, dbapi_connection: object) -> None:
        with self._turns:
            if self._holder is None or self._holder is not dbapi_connection:
                return
            self._holder = None
            self._serving += 1
            while self._serving in self._abandoned:
                self._abandoned.discard(self._serving)
                self._serving += 1
            self._turns.notify_all()


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
