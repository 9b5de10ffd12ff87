"""What a unit head's screens show: the unit's tasks grouped by urgency, and one task's page.

:func:`unit_overview` runs a fixed number of SQL queries whatever the number of tasks: the
tasks with their plan and the unit's role, the next open due item of each (a window function),
and the lead units' names. :func:`task_page` gathers a task's detail and which actions the
user may take on it now (permission contract and state machine together), so views only render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.directions import Discussion, discussion
from workflow.errors import NotFound
from workflow.lifecycle import allowed_events
from workflow.messages import N_
from workflow.models import DueItem, Plan, Report, Task, TaskUnit, User
from workflow.permissions import Action, can, can_review
from workflow.queries import TaskDetail, lead_units_by_task, task_detail

SOON_DAYS = 7
FINISHED_STATES = ("closed", "cancelled", "superseded")


class Group(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"
    WAITING = "waiting"
    ONGOING = "ongoing"
    DONE = "done"


GROUP_ORDER = tuple(Group)


@dataclass(frozen=True)
class UnitTaskRow:
    task_id: int
    plan_code: str
    plan_number: str
    ref: str
    name: str
    status: str
    timing_raw: str
    needs_review: bool
    lead_units: list[str]
    next_kind: str | None = None
    next_period: str | None = None
    next_due: date | None = None
    days_left: int | None = None  # negative: days late

    @property
    def days_late(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0


@dataclass
class UnitOverview:
    unit_id: int | None
    today: date
    groups: dict[Group, list[UnitTaskRow]] = field(
        default_factory=lambda: {g: [] for g in GROUP_ORDER}
    )
    cooperating: list[UnitTaskRow] = field(default_factory=list)

    @property
    def led_count(self) -> int:
        return sum(len(rows) for rows in self.groups.values())


def group_of(status: str, next_due: date | None, today: date) -> Group:
    """Where a led task belongs on the unit's screen as of ``today``."""
    if status in FINISHED_STATES:
        return Group.DONE
    if status == "waiting":
        return Group.WAITING
    if next_due is not None and next_due < today:
        return Group.OVERDUE
    if next_due is not None and next_due <= today + timedelta(days=SOON_DAYS):
        return Group.SOON
    return Group.ONGOING


def _next_open_items(session: Session, task_ids: list[int]) -> dict[int, DueItem]:
    """The earliest open due item of each task, in one query."""
    if not task_ids:
        return {}
    rank = (
        sa.func.row_number()
        .over(partition_by=DueItem.task_id, order_by=(DueItem.due_date, DueItem.id))
        .label("rank")
    )
    ranked = (
        sa.select(DueItem.id, rank)
        .where(DueItem.task_id.in_(task_ids), DueItem.status == "open")
        .subquery()
    )
    items = session.scalars(
        sa.select(DueItem).join(ranked, ranked.c.id == DueItem.id).where(ranked.c.rank == 1)
    )
    return {item.task_id: item for item in items}


def _sort_key(row: UnitTaskRow) -> tuple:
    return (row.next_due is None, row.next_due or date.min, row.plan_code, row.ref)


def unit_overview(session: Session, unit_id: int | None, today: date) -> UnitOverview:
    """The tasks a unit leads, grouped overdue / soon / waiting / ongoing / done, and the tasks
    it only cooperates on. Three queries, whatever the number of tasks."""
    overview = UnitOverview(unit_id=unit_id, today=today)
    if unit_id is None:
        return overview
    rows = session.execute(
        sa.select(
            Task.id,
            Task.ref,
            Task.name,
            Task.status,
            Task.timing_raw,
            Task.timing_kind,
            Plan.code,
            Plan.number,
            TaskUnit.role,
        )
        .join(TaskUnit, TaskUnit.task_id == Task.id)
        .join(Plan, Task.plan_id == Plan.id)
        .where(TaskUnit.unit_id == unit_id)
        .order_by(Plan.code, Task.position, Task.id)
    ).all()
    ids = [r.id for r in rows]
    upcoming = _next_open_items(session, ids)
    leads = lead_units_by_task(session, ids)
    for r in rows:
        item = upcoming.get(r.id)
        row = UnitTaskRow(
            task_id=r.id,
            plan_code=r.code,
            plan_number=r.number,
            ref=r.ref,
            name=r.name,
            status=r.status,
            timing_raw=r.timing_raw,
            needs_review=r.timing_kind == "unknown",
            lead_units=leads.get(r.id, []),
            next_kind=item.kind if item else None,
            next_period=item.period_key if item else None,
            next_due=item.due_date if item else None,
            days_left=(item.due_date - today).days if item else None,
        )
        if r.role == "lead":
            overview.groups[group_of(r.status, row.next_due, today)].append(row)
        else:
            overview.cooperating.append(row)
    for group, group_rows in overview.groups.items():
        if group is not Group.DONE:
            group_rows.sort(key=_sort_key)
    return overview


# --- the task page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskPage:
    """A task as its page shows it, and what the viewer may do on it now."""

    detail: TaskDetail
    open_items: list[DueItem]
    pending_reports: list[Report]
    may_report: bool
    may_request_extension: bool
    may_review: bool
    reviewable: frozenset[int]  # the pending reports this viewer may accept or return
    may_reopen: bool
    may_cancel: bool
    discussion: Discussion
    may_direct: bool
    may_request_explanation: bool
    may_answer: bool
    may_comment: bool

    @property
    def task(self) -> Task:
        return self.detail.task


def task_page(session: Session, user: User, task: Task, today: date) -> TaskPage:
    detail = task_detail(session, task, today)
    open_items = [item for item, _ in detail.due_items if item.status == "open"]
    pending = [r for r in detail.reports if r.status == "submitted"]
    events = allowed_events(task)
    working = task.status in ("in_progress", "reported")
    talk = discussion(session, task)
    reviewable = frozenset(r.id for r in pending if can_review(user, Action.ACCEPT, r))
    return TaskPage(
        detail=detail,
        open_items=open_items,
        pending_reports=pending,
        may_report="report" in events and bool(open_items) and can(user, Action.REPORT, task),
        may_request_extension=working
        and bool(open_items)
        and can(user, Action.REQUEST_EXTENSION, task),
        may_review="accept" in events and bool(reviewable),
        reviewable=reviewable,
        may_reopen="reopen" in events and can(user, Action.REOPEN, task),
        may_cancel="cancel" in events and can(user, Action.CANCEL, task),
        discussion=talk,
        may_direct=can(user, Action.DIRECT, task),
        may_request_explanation=talk.open_explanation is None
        and can(user, Action.REQUEST_EXPLANATION, task),
        may_answer=talk.open_explanation is not None and can(user, Action.EXPLAIN, task),
        may_comment=can(user, Action.COMMENT, task),
    )


def task_report(session: Session, task: Task, report_id: int) -> Report:
    """A report of ``task``; another task's report is not found here."""
    report = session.get(Report, report_id)
    if report is None or report.task_id != task.id:
        raise NotFound(
            N_("report %(report)s of task %(task)s does not exist"), report=report_id, task=task.id
        )
    return report
