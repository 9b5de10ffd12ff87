"""Finding tasks by the words of their name, with or without diacritics.

"chuyen doi so", "Chuyển đổi số" and "CHUYỂN ĐỔI SỐ" find the same tasks: the words are folded
like :attr:`Task.name_key` and each must begin a word of it, in any order. Only tasks the reader
may see are searched (:func:`workflow.board.visible_to`, the SQL form of the permission
contract), and the choices of plan and lead unit offered come from those tasks too.

A search runs a fixed number of SQL statements whatever the number of tasks: the organisation
once, the plan and unit choices, a count, the page of tasks, and their lead units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.board import led_by, visible_to
from workflow.lifecycle import STATES
from workflow.models import DueItem, Plan, Task, TaskUnit, Unit, User
from workflow.pagination import PER_PAGE, Page, paginate
from workflow.queries import lead_units_by_task, name_matches


@dataclass(frozen=True)
class SearchFilters:
    words: str = ""
    plan_id: int | None = None
    unit_id: int | None = None  # a lead unit
    state: str | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise ValueError(f"unknown task state {self.state!r} (one of: {', '.join(STATES)})")


@dataclass(frozen=True)
class TaskHit:
    task_id: int
    plan_code: str
    plan_number: str
    ref: str
    number: str
    name: str
    status: str
    lead_units: list[str]
    next_due: date | None  # the earliest open due item; None when nothing is owed


@dataclass(frozen=True)
class PlanChoice:
    id: int
    number: str
    code: str


@dataclass(frozen=True)
class UnitChoice:
    id: int
    name: str


@dataclass(frozen=True)
class SearchResult:
    hits: Page[TaskHit]
    plans: list[PlanChoice]  # plans with a task the reader may see
    units: list[UnitChoice]  # units leading a task the reader may see


def search_tasks(
    session: Session,
    user: User | None,
    filters: SearchFilters,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchResult:
    """The tasks ``user`` may see that match ``filters``, a page at a time.

    A plan or unit filter naming something out of the reader's sight simply finds nothing.
    """
    visible = visible_to(session, user)
    next_due = (
        sa.select(sa.func.min(DueItem.due_date))
        .where(DueItem.task_id == Task.id, DueItem.status == "open")
        .correlate(Task)
        .scalar_subquery()
        .label("next_due")
    )
    query = (
        sa.select(
            Task.id,
            Plan.code,
            Plan.number,
            Task.ref,
            Task.number,
            Task.name,
            Task.status,
            next_due,
        )
        .join(Plan, Task.plan_id == Plan.id)
        .where(visible, name_matches(filters.words))
        .order_by(Plan.issued_on.desc().nulls_last(), Plan.id.desc(), Task.position, Task.id)
    )
    if filters.plan_id is not None:
        query = query.where(Task.plan_id == filters.plan_id)
    if filters.unit_id is not None:
        query = query.where(led_by(filters.unit_id))
    if filters.state is not None:
        query = query.where(Task.status == filters.state)
    found = paginate(session, query, page, per_page)
    hits = found.map(lambda rows: _hits(session, rows))
    return SearchResult(hits, _plan_choices(session, visible), _unit_choices(session, visible))


def _hits(session: Session, rows: list[sa.Row]) -> list[TaskHit]:
    leads = lead_units_by_task(session, (row[0] for row in rows))
    return [
        TaskHit(
            task_id=task_id,
            plan_code=plan_code,
            plan_number=plan_number,
            ref=ref,
            number=number,
            name=name,
            status=status,
            lead_units=leads.get(task_id, []),
            next_due=due,
        )
        for task_id, plan_code, plan_number, ref, number, name, status, due in rows
    ]


def _plan_choices(session: Session, visible: sa.ColumnElement[bool]) -> list[PlanChoice]:
    rows = session.execute(
        sa.select(Plan.id, Plan.number, Plan.code, Plan.issued_on)
        .select_from(Task)
        .join(Plan, Task.plan_id == Plan.id)
        .where(visible)
        .group_by(Plan.id, Plan.number, Plan.code, Plan.issued_on)
        .order_by(Plan.issued_on.desc().nulls_last(), Plan.id.desc())
    )
    return [PlanChoice(plan_id, number, code) for plan_id, number, code, _ in rows]


def _unit_choices(session: Session, visible: sa.ColumnElement[bool]) -> list[UnitChoice]:
    rows = session.execute(
        sa.select(Unit.id, Unit.name)
        .select_from(Task)
        .join(Plan, Task.plan_id == Plan.id)
        .join(TaskUnit, sa.and_(TaskUnit.task_id == Task.id, TaskUnit.role == "lead"))
        .join(Unit, TaskUnit.unit_id == Unit.id)
        .where(visible)
        .group_by(Unit.id, Unit.name)
        .order_by(Unit.name, Unit.id)
    )
    return [UnitChoice(unit_id, name) for unit_id, name in rows]
