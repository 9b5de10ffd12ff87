"""One number that every committed change to what people see raises, in the change's own
transaction: what a process may key a cache on, so that the cache is never stale.

Any session of :class:`workflow.db.Database` that wrote through the ORM (a flush) or executed
an INSERT, UPDATE or DELETE marks itself; just before it commits, it adds one to the single
row of ``data_version``. So a reader that reads the number first and then the data has seen
at least that number's data, on SQLite and on PostgreSQL, from any process. Bookkeeping that no
screen or feed shows (the scheduler's lease and job runs, the e-mail outbox, notifications)
does not raise it, so the scheduler's heartbeat does not empty every cache twice a minute.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from workflow.models import DataVersion, JobRun, Notification, OutboxMessage, SchedulerLock

_WROTE = "nhiemvu.wrote"
_UNSEEN = frozenset(
    model.__table__.name
    for model in (DataVersion, SchedulerLock, JobRun, OutboxMessage, Notification)
)


def current(session: Session) -> int:
    """The number now; read it before the data it stands for."""
    return session.scalar(sa.select(DataVersion.value).where(DataVersion.id == 1)) or 0


def track(sessions: sessionmaker) -> None:
    """Make every session of ``sessions`` raise the number when it commits a change."""
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "do_orm_execute", _on_execute)
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_commit", _forget)
    event.listen(sessions, "after_rollback", _forget)


def _before_flush(session: Session, _context, _instances) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(type(obj).__table__.name not in _UNSEEN for obj in changed):
        session.info[_WROTE] = True


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in _UNSEEN:
        state.session.info[_WROTE] = True


def _before_commit(session: Session) -> None:
    session.flush()  # a pending change marks the session before we look
    if session.info.pop(_WROTE, False):
        raised = session.execute(
            sa.update(DataVersion).where(DataVersion.id == 1).values(value=DataVersion.value + 1)
        )
        if raised.rowcount == 0:  # a database made without the migration's row
            session.add(DataVersion(id=1, value=1))
            session.flush()


def _forget(session: Session) -> None:
    session.info.pop(_WROTE, None)
