"""What a unit head's screens show: the unit's tasks grouped by urgency, and one task's page.

Which group a task is in is decided in SQL (:func:`group_case`), so that a unit of thousands of
tasks is counted by one aggregate (:func:`group_counts`) and listed a page at a time
(:func:`group_page`), each row with its next open due item. :func:`unit_overview` is the unit
head's home: every group's count and the first rows of the urgent ones. :func:`task_page`
gathers a task's detail and which actions the user may take on it now (permission contract and
state machine together), so views only render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow import stamp_cache
from workflow.directions import Discussion, discussion
from workflow.errors import NotFound
from workflow.lifecycle import allowed_events
from workflow.messages import N_
from workflow.models import DueItem, Plan, Report, Task, TaskUnit, User
from workflow.pagination import PER_PAGE, Page, paginate
from workflow.permissions import Action, can, can_review
from workflow.queries import TaskDetail, lead_units_by_task, task_detail

SOON_DAYS = 7
FINISHED_STATES = ("closed", "cancelled", "superseded")
FIRST_ROWS = 20  # rows of each urgent group on the unit head's home


class Group(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"
    WAITING = "waiting"
    ONGOING = "ongoing"
    DONE = "done"
    COOPERATING = "cooperating"  # led by other units; the unit only cooperates


GROUP_ORDER = tuple(Group)
LED_GROUPS = GROUP_ORDER[:-1]
URGENT_GROUPS = (Group.OVERDUE, Group.SOON)  # listed on the home page, the others counted
BY_PLAN = frozenset({Group.DONE, Group.COOPERATING})  # in plan order; the others by next due


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
    """Every group's count, and the first rows of the urgent groups."""

    unit_id: int | None
    today: date
    counts: dict[Group, int] = field(default_factory=lambda: dict.fromkeys(GROUP_ORDER, 0))
    first: dict[Group, list[UnitTaskRow]] = field(
        default_factory=lambda: {g: [] for g in URGENT_GROUPS}
    )

    @property
    def led_count(self) -> int:
        return sum(self.counts[g] for g in LED_GROUPS)


def next_open_due(task_id: sa.ColumnElement[int]) -> sa.ScalarSelect:
    """The due date of the task's earliest open due item (NULL if none), correlated on
    ``task_id``."""
    return (
        sa.select(sa.func.min(DueItem.due_date))
        .where(DueItem.task_id == task_id, DueItem.status == "open")
        .scalar_subquery()
    )


def group_case(
    role: sa.ColumnElement[str],
    status: sa.ColumnElement[str],
    task_id: sa.ColumnElement[int],
    today: date,
) -> sa.Case:
    """Where a task belongs on the unit's screen as of ``today``, as SQL: the one home of the rule.

    A task the unit does not lead is cooperating; a led one is done, waiting, or else placed by
    the date of its earliest open due item: overdue before ``today`` (the day itself is not
    late), soon up to SOON_DAYS ahead, ongoing after that or with nothing open. The date is
    read once per task, and only for tasks that need it.
    """
    next_due = sa.func.min(DueItem.due_date)
    by_date = (
        sa.select(
            sa.case(
                (next_due < today, Group.OVERDUE.value),
                (next_due <= today + timedelta(days=SOON_DAYS), Group.SOON.value),
                else_=Group.ONGOING.value,
            )
        )
        .where(DueItem.task_id == task_id, DueItem.status == "open")
        .scalar_subquery()
    )
    return sa.case(
        (role != "lead", Group.COOPERATING.value),
        (status.in_(FINISHED_STATES), Group.DONE.value),
        (status == "waiting", Group.WAITING.value),
        else_=by_date,
    )


def _unit_group(unit_id: int, today: date) -> sa.ColumnElement[str]:
    return group_case(TaskUnit.role, Task.status, TaskUnit.task_id, today)


def group_counts(session: Session, unit_id: int | None, today: date) -> dict[Group, int]:
    """How many tasks of the unit are in each group: one aggregate."""
    counts = dict.fromkeys(GROUP_ORDER, 0)
    if unit_id is None:
        return counts
    grouped = (
        sa.select(_unit_group(unit_id, today).label("grp"))
        .join(Task, Task.id == TaskUnit.task_id)
        .where(TaskUnit.unit_id == unit_id)
        .subquery()
    )
    for group, n in session.execute(
        sa.select(grouped.c.grp, sa.func.count()).group_by(grouped.c.grp)
    ):
        counts[Group(group)] = n
    return counts


def _group_query(unit_id: int, group: Group, today: date) -> sa.Select:
    """The tasks of ``group``, in the order the screen lists them: by next due date (nothing
    due last), plan and number; done and cooperating tasks in plan order."""
    if group in BY_PLAN:
        order = (Plan.code, Task.position, Task.id)
    else:
        next_due = next_open_due(TaskUnit.task_id).asc().nulls_last()
        order = (next_due, Plan.code, Task.ref, Task.id)
    # the role, implied by the group, narrows the rows to classify along ix_task_units_unit_role
    led = TaskUnit.role != "lead" if group is Group.COOPERATING else TaskUnit.role == "lead"
    return (
        sa.select(
            Task.id,
            Task.ref,
            Task.name,
            Task.status,
            Task.timing_raw,
            Task.timing_kind,
            Plan.code,
            Plan.number,
        )
        .select_from(TaskUnit)
        .join(Task, Task.id == TaskUnit.task_id)
        .join(Plan, Task.plan_id == Plan.id)
        .where(TaskUnit.unit_id == unit_id, led, _unit_group(unit_id, today) == group.value)
        .order_by(*order)
    )


def _next_open_items(session: Session, task_ids: Sequence[int]) -> dict[int, DueItem]:
    """The earliest open due item of each task, in one query (a page's tasks, along
    ix_due_items_task_id_status_due_date)."""
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


def _task_rows(session: Session, rows: Sequence[sa.Row], today: date) -> list[UnitTaskRow]:
    ids = [r.id for r in rows]
    upcoming = _next_open_items(session, ids)
    leads = lead_units_by_task(session, ids)
    found = []
    for r in rows:
        item = upcoming.get(r.id)
        found.append(
            UnitTaskRow(
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
        )
    return found


def group_page(
    session: Session,
    unit_id: int | None,
    group: Group,
    today: date,
    page: int = 1,
    per_page: int = PER_PAGE,
    *,
    total: int | None = None,
) -> Page[UnitTaskRow]:
    """Page ``page`` of the unit's tasks in ``group``, paged as every list is
    (:mod:`workflow.pagination`). ``total`` is their number if already counted; if not, it
    is counted in the same pass as the page (classifying a unit's tasks is the costly part),
    and apart only for a page past the end, which shows the last page. Kept per process while
    nothing it reads changed (:mod:`workflow.stamp_cache`)."""
    if unit_id is None:
        return Page([], 1, per_page, 0)
    key = ("unit group", unit_id, group, today, page, per_page, total)
    return stamp_cache.cached(
        session, key, lambda: _group_page(session, unit_id, group, today, page, per_page, total)
    )


def _group_page(
    session: Session,
    unit_id: int,
    group: Group,
    today: date,
    page: int,
    per_page: int,
    total: int | None,
) -> Page[UnitTaskRow]:
    query = _group_query(unit_id, group, today)
    if total is None and page >= 1:
        counted = query.add_columns(sa.func.count().over().label("group_total"))
        rows = session.execute(counted.limit(per_page).offset((page - 1) * per_page)).all()
        if rows:
            total = rows[0].group_total
            return Page(_task_rows(session, rows, today), page, per_page, total)
    found = paginate(session, query, page, per_page, total=total)
    return found.map(lambda rows: _task_rows(session, rows, today))


def unit_overview(
    session: Session, unit_id: int | None, today: date, first: int = FIRST_ROWS
) -> UnitOverview:
    """Every group's count (one aggregate) and the ``first`` rows of the overdue tasks and of
    those due within SOON_DAYS: a fixed number of queries, whatever the number of tasks."""
    overview = UnitOverview(unit_id=unit_id, today=today)
    if unit_id is None:
        return overview
    key = ("unit counts", unit_id, today)
    overview.counts = stamp_cache.cached(
        session, key, lambda: group_counts(session, unit_id, today)
    )
    for group in URGENT_GROUPS:
        if overview.counts[group]:
            shown = group_page(
                session, unit_id, group, today, 1, first, total=overview.counts[group]
            )
            overview.first[group] = shown.items
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
