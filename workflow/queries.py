"""Read-only queries: what is overdue, what is coming, what a task looks like.

Aggregation and filtering happen in SQL; lead units for a page of rows come in one extra
query, never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from workflow.classify import DueClass, due_class, is_overdue, live_as_of
from workflow.models import DueItem, Plan, Report, Task, TaskEvent, TaskUnit, Unit
from workflow.pagination import PER_PAGE, Page, paginate
from workflow.text import fold_key

DEADLINE_KINDS = ("deadline", "occurrence")
ALL_KINDS = ("deadline", "occurrence", "report")
MAX_WORDS = 12


def search_words(text: str | None) -> list[str]:
    """The words of a search, folded like :attr:`Task.name_key` ("Chuyển đổi số" and
    "chuyen doi so" give the same words); repeated words once, at most ``MAX_WORDS``."""
    return list(dict.fromkeys(fold_key(text).split()))[:MAX_WORDS]


def name_matches(text: str | None, key: ColumnElement[str] = Task.name_key) -> ColumnElement[bool]:
    """Every word of ``text`` begins a word of the folded name ``key``, in any order.

    Folded words hold only ``a-z`` and ``0-9``, so they need no escaping in LIKE; no words
    match everything.
    """
    spaced = sa.literal(" ") + key
    return sa.and_(sa.true(), *(spaced.like(f"% {word}%") for word in search_words(text)))


@dataclass(frozen=True)
class DueRow:
    item_id: int
    task_id: int
    plan: str
    plan_code: str
    task_ref: str
    task: str
    lead_units: list[str]
    kind: str
    period: str
    due_date: date
    nominal_date: date
    original_due_date: date
    status: str
    task_status: str
    timing: str
    days_overdue: int

    def as_json(self) -> dict:
        row = asdict(self)
        for key in ("due_date", "nominal_date", "original_due_date"):
            row[key] = row[key].isoformat()
        return row


def _base(
    kinds: Sequence[str], unit_id: int | None, plan_id: int | None, name: str | None = None
) -> sa.Select:
    query = (
        sa.select(
            DueItem, Task.ref, Task.name, Task.status, Task.timing_raw, Plan.number, Plan.code
        )
        .join(Task, DueItem.task_id == Task.id)
        .join(Plan, Task.plan_id == Plan.id)
        .where(DueItem.kind.in_(kinds))
    )
    if unit_id is not None:
        leads = sa.select(TaskUnit.task_id).where(
            TaskUnit.unit_id == unit_id, TaskUnit.role == "lead"
        )
        query = query.where(Task.id.in_(leads))
    if plan_id is not None:
        query = query.where(Task.plan_id == plan_id)
    if name:
        query = query.where(name_matches(name))
    return query


class LeadUnit(NamedTuple):
    id: int
    code: str
    name: str


def lead_units_of(session: Session, task_ids: Iterable[int]) -> dict[int, list[LeadUnit]]:
    """The lead units of each task, in the order the plan names them: one query."""
    ids = sorted(set(task_ids))
    found: dict[int, list[LeadUnit]] = defaultdict(list)
    if not ids:
        return found
    rows = session.execute(
        sa.select(TaskUnit.task_id, Unit.id, Unit.code, Unit.name)
        .join(Unit, TaskUnit.unit_id == Unit.id)
        .where(TaskUnit.task_id.in_(ids), TaskUnit.role == "lead")
        .order_by(TaskUnit.task_id, TaskUnit.position)
    )
    for task_id, *unit in rows:
        found[task_id].append(LeadUnit(*unit))
    return found


def lead_units_by_task(session: Session, task_ids: Iterable[int]) -> dict[int, list[str]]:
    """The names of each task's lead units."""
    return defaultdict(
        list,
        {t: [u.name for u in units] for t, units in lead_units_of(session, task_ids).items()},
    )


def _rows(session: Session, query: sa.Select, as_of: date) -> list[DueRow]:
    return _due_rows(session, session.execute(query).all(), as_of)


def _due_rows(session: Session, results: Sequence[sa.Row], as_of: date) -> list[DueRow]:
    leads = lead_units_by_task(session, (r[0].task_id for r in results))
    return [
        DueRow(
            item_id=item.id,
            task_id=item.task_id,
            plan=plan_number,
            plan_code=plan_code,
            task_ref=ref,
            task=name,
            lead_units=leads.get(item.task_id, []),
            kind=item.kind,
            period=item.period_key,
            due_date=item.due_date,
            nominal_date=item.nominal_date,
            original_due_date=item.original_due_date,
            status=item.status,
            task_status=task_status,
            timing=timing,
            days_overdue=max(0, (as_of - item.due_date).days),
        )
        for item, ref, name, task_status, timing, plan_number, plan_code in results
    ]


def overdue(
    session: Session,
    as_of: date,
    *,
    unit_id: int | None = None,
    plan_id: int | None = None,
    kinds: Sequence[str] = DEADLINE_KINDS,
) -> list[DueRow]:
    """Due items not done by the end of their day, as of ``as_of``; the oldest first.

    By default the task deadlines and recurring occurrences — what Vietnamese monitoring
    reports call overdue tasks. Missing periodic reports are asked for with ``kinds``.
    """
    query = _base(kinds, unit_id, plan_id).where(is_overdue(as_of))
    return _rows(session, query.order_by(DueItem.due_date, Plan.number, Task.position), as_of)


def overdue_page(
    session: Session,
    as_of: date,
    *,
    unit_id: int | None = None,
    plan_id: int | None = None,
    kinds: Sequence[str] = DEADLINE_KINDS,
    name: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[DueRow]:
    """One page of :func:`overdue`, optionally only tasks whose name has the words ``name``."""
    query = (
        _base(kinds, unit_id, plan_id, name)
        .where(is_overdue(as_of))
        .order_by(DueItem.due_date, Plan.number, Task.position, DueItem.id)
    )
    found = paginate(session, query, page, per_page)
    return found.map(lambda rows: _due_rows(session, rows, as_of))


def upcoming(
    session: Session,
    start: date,
    end: date,
    *,
    unit_id: int | None = None,
    plan_id: int | None = None,
    kinds: Sequence[str] = ALL_KINDS,
) -> list[DueRow]:
    """Open due items falling between ``start`` and ``end`` inclusive."""
    query = _base(kinds, unit_id, plan_id).where(
        DueItem.status == "open", DueItem.due_date.between(start, end)
    )
    return _rows(session, query.order_by(DueItem.due_date, Plan.number, Task.position), start)


def summary(
    session: Session,
    as_of: date,
    *,
    plan_id: int | None = None,
    kinds: Sequence[str] = DEADLINE_KINDS,
) -> dict[str, dict[str, int]]:
    """Counts of the four classes per lead unit (unit name → class → count)."""
    klass = due_class(as_of).label("klass")
    query = (
        sa.select(Unit.name, klass, sa.func.count())
        .select_from(DueItem)
        .join(Task, DueItem.task_id == Task.id)
        .join(TaskUnit, sa.and_(TaskUnit.task_id == Task.id, TaskUnit.role == "lead"))
        .join(Unit, TaskUnit.unit_id == Unit.id)
        .where(DueItem.kind.in_(kinds), live_as_of(as_of))
        .group_by(Unit.name, klass)
        .order_by(Unit.name)
    )
    if plan_id is not None:
        query = query.where(Task.plan_id == plan_id)
    table: dict[str, dict[str, int]] = {}
    for unit_name, name, count in session.execute(query):
        table.setdefault(unit_name, dict.fromkeys(DueClass, 0))[DueClass(name)] = count
    return table


@dataclass(frozen=True)
class TaskDetail:
    """One task as its page shows it: due items classified as of a date, reports, history."""

    task: Task
    due_items: list[tuple[DueItem, DueClass | None]]  # None for a cancelled item
    reports: list[Report]
    history: list[TaskEvent]


def task_detail(session: Session, task: Task, as_of: date) -> TaskDetail:
    rows = session.execute(
        sa.select(DueItem, due_class(as_of))
        .where(DueItem.task_id == task.id)
        .order_by(DueItem.due_date, DueItem.id)
    ).all()
    reports = session.scalars(
        sa.select(Report)
        .where(Report.task_id == task.id)
        .order_by(Report.id)
        .options(
            selectinload(Report.submitted_by),
            selectinload(Report.reviewed_by),
            selectinload(Report.due_items),
        )
    )
    history = session.scalars(
        sa.select(TaskEvent)
        .where(TaskEvent.task_id == task.id)
        .order_by(TaskEvent.at, TaskEvent.id)
        .options(selectinload(TaskEvent.actor))
    )
    return TaskDetail(
        task=task,
        due_items=[(i, None if i.status == "cancelled" else DueClass(c)) for i, c in rows],
        reports=list(reports),
        history=list(history),
    )


def plans_with_task_counts(session: Session) -> list[tuple[Plan, int]]:
    counts = sa.select(Task.plan_id, sa.func.count().label("n")).group_by(Task.plan_id).subquery()
    rows = session.execute(
        sa.select(Plan, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.plan_id == Plan.id)
        .order_by(Plan.id)
    )
    return [(plan, count) for plan, count in rows]


def pending_report_id(session: Session, task_id: int) -> int | None:
    """The oldest report of a task still waiting for the Office."""
    return session.scalar(
        sa.select(Report.id)
        .where(Report.task_id == task_id, Report.status == "submitted")
        .order_by(Report.id)
        .limit(1)
    )
