"""The task history: written with every change, in the same transaction, never rewritten.

A ``before_flush`` guard makes both halves of that promise hold for every code path: a flush
that changes a task without writing a history row for it, or that alters or deletes a
history row, fails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from workflow.models import Task, TaskEvent, User


def record(
    session: Session,
    task: Task,
    *,
    at: datetime,
    actor: User | None,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    changes: dict[str, Any] | None = None,
    touches_task: bool = True,
) -> TaskEvent:
    """Append one event to the task's history.

    An event that changes the task also raises its version, so concurrent edits collide. A
    discussion entry (a comment, a direction, a request to explain and its answer) changes
    nothing of the task itself: it passes ``touches_task=False`` and leaves the version alone,
    so it never makes a report form someone has open stale.
    """
    if touches_task:
        task.updated_at = at
        flag_modified(task, "updated_at")  # always an UPDATE, so the version rises
    entry = TaskEvent(
        task=task,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        changes=changes or {},
    )
    session.add(entry)
    return entry


class HistoryViolation(RuntimeError):
    """A bug: some code changed a task without history, or rewrote history."""


@event.listens_for(Session, "before_flush")
def _guard_history(session: Session, _context, _instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, TaskEvent):
            raise HistoryViolation("task history is append-only")
    recorded = {id(e.task) for e in session.new if isinstance(e, TaskEvent)}
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Task) and id(obj) not in recorded and session.is_modified(obj):
            raise HistoryViolation(f"task {obj.ref!r} changed without a history entry")
