"""What the morning screens compute — the overdue board's counts, a unit's task lists, a calendar
feed's validator — kept in memory per process while nothing they read changed.

Counting a large organisation's due items takes the database hundreds of milliseconds; the
data changes far less often than people look at it. Each entry is keyed by the
database's *board stamp* (:class:`workflow.models.BoardStamp`): a random value that triggers
on due_items, tasks, task_units, plans and units replace in every transaction that writes one
of them, in that transaction (migration 0007). So whatever made the change — the ORM, a bulk
UPDATE, raw SQL, the CLI, the scheduler, another web process — the next reader reads a new
stamp and misses; no process has to tell another anything.

Why this is never stale:

- The stamp is read in the reader's transaction before the counts: what is counted is at least
  as new as the stamp it is stored under (SQLite reads one snapshot; PostgreSQL's later
  statements can only see more).
- A transaction that writes the board's tables reads its own new stamp, which nobody else
  sees until it commits; if it rolls back, that random stamp is never read again.
- The stamp is random, not a counter: a rolled-back increment cannot be reused by another
  transaction with other data.
- Entries are per database (the engine's URL) and keyed by every argument of the count; with
  no stamp row (a table emptied by hand) nothing is cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.models import BoardStamp

T = TypeVar("T")
MAX_ENTRIES = 512
TABLES = ("due_items", "tasks", "task_units", "plans", "units")

_entries: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()
enabled = True  # tests compare with and without


def stamp(session: Session) -> str | None:
    """The board stamp as this session's transaction sees it (None: no stamp row)."""
    return session.scalar(sa.select(BoardStamp.stamp).where(BoardStamp.id == 1))


def cached(session: Session, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave before under the same ``key`` and the same stamp.

    ``key`` names the count and holds every argument it depends on. The value is shared
    between requests: treat it as read-only.
    """
    if not enabled:
        return compute()
    current = stamp(session)
    if current is None:
        return compute()
    full_key = (session.get_bind().url.render_as_string(hide_password=True), current, *key)
    with _lock:
        if full_key in _entries:
            _entries.move_to_end(full_key)
            return _entries[full_key]  # type: ignore[return-value]
    value = compute()
    with _lock:
        _entries[full_key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()


def triggers_missing(connection: sa.Connection) -> list[str]:
    """The tables whose stamp triggers are not all there (a rebuilt table loses them)."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            sa.text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE 'board_touch_%' AND NOT t.tgisinternal"
            )
        )
        present = {table for (table,) in rows}
        return [table for table in TABLES if table not in present]
    rows = connection.execute(
        sa.text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
    )
    names = {name for _, name in rows}
    return [
        table
        for table in TABLES
        if not all(f"board_touch_{table}_{op}" in names for op in ("insert", "update", "delete"))
    ]
