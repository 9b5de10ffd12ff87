"""What the Office screen and the overdue board read: queues, waiting tasks and counts.

Every query is scoped to the reader's organisation (an administrator, or an account without a
unit, sees every organisation) and runs a fixed number of SQL statements whatever the number
of rows: aggregation in SQL, lead units for a page of rows in one extra query.

A task belongs to the organisation of its plan's issuer, or of its first lead unit when the plan
names no issuer — the same rule as :func:`workflow.permissions.can`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, selectinload
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from workflow import stamp_cache
from workflow.classify import DueClass, due_class, is_overdue, live_as_of, task_class
from workflow.clock import local_date
from workflow.errors import NotFound
from workflow.lifecycle import STATES
from workflow.messages import N_, Message
from workflow.models import (
    DueItem,
    Escalation,
    ExtensionRequest,
    Plan,
    Report,
    Task,
    TaskEvent,
    TaskUnit,
    Unit,
    User,
)
from workflow.permissions import SEES_EVERYTHING, Action, require, require_organisation
from workflow.queries import DEADLINE_KINDS, lead_units_by_task
from workflow.regime import describe_period

KIND_FILTERS: dict[str, tuple[str, ...]] = {
    "tasks": DEADLINE_KINDS,
    "reports": ("report",),
    "all": ("deadline", "occurrence", "report"),
}


# --- who may read what -----------------------------------------------------------------------


def require_office(user: User | None) -> None:
    """The Office screen is for those who accept reports (the Office, administrators)."""
    require(user, Action.ACCEPT)


def require_board(user: User | None) -> None:
    """The overdue board is for those who see everything in their organisation."""
    require(user, Action.VIEW)


def organisation_unit_ids(session: Session, user: User) -> list[int] | None:
    """The ids of every unit in the user's organisation; None when nothing is out of reach."""
    if user.role == "admin" or user.unit_id is None:
        return None
    return units_of_organisation(session, user.unit_id)


def units_of_organisation(session: Session, unit_id: int) -> list[int]:
    """The ids of every unit of the organisation ``unit_id`` belongs to: one query."""
    parent: dict[int, int | None] = {
        uid: pid for uid, pid in session.execute(sa.select(Unit.id, Unit.parent_id))
    }

    def root(unit_id: int) -> int:
        seen = {unit_id}
        while parent.get(unit_id) is not None and parent[unit_id] not in seen:
            unit_id = parent[unit_id]
            seen.add(unit_id)
        return unit_id

    top = root(unit_id)
    return sorted(uid for uid in parent if root(uid) == top)


def in_scope(unit_ids: Sequence[int] | None) -> ColumnElement[bool]:
    """Tasks (with their Plan joined) of the organisation whose units are ``unit_ids``.

    A task without a plan issuer belongs to the organisation of its first lead unit (lowest
    position), and to every organisation when it has none. Written as a set the database
    builds once (the tasks whose first lead is another organisation's), not as a subquery run
    again for every row.
    """
    if unit_ids is None:
        return sa.true()
    lead, earlier = aliased(TaskUnit), aliased(TaskUnit)
    first_lead_elsewhere = sa.select(lead.task_id).where(
        lead.role == "lead",
        lead.unit_id.not_in(unit_ids),
        ~sa.exists().where(
            earlier.task_id == lead.task_id,
            earlier.role == "lead",
            earlier.position < lead.position,
        ),
    )
    return sa.or_(
        Plan.issuer_unit_id.in_(unit_ids),
        sa.and_(Plan.issuer_unit_id.is_(None), Task.id.not_in(first_lead_elsewhere)),
    )


def visible_to(session: Session, user: User | None) -> ColumnElement[bool]:
    """Tasks (with their Plan joined) ``user`` may see: :func:`can` (user, VIEW, task) as SQL.

    The single SQL form of the rule, for every list that shows tasks to anyone: administrators
    see every task; the Office and leadership their organisation's; everyone with a unit the
    tasks their unit leads or cooperates on; inactive accounts nothing.
    """
    if user is None or not user.active:
        return sa.false()
    if user.role == "admin":
        return sa.true()
    seen: list[ColumnElement[bool]] = []
    if user.role in SEES_EVERYTHING:
        seen.append(in_scope(organisation_unit_ids(session, user)))
    if user.unit_id is not None:
        link = aliased(TaskUnit)
        seen.append(Task.id.in_(sa.select(link.task_id).where(link.unit_id == user.unit_id)))
    return sa.or_(sa.false(), *seen)


def led_by(unit_id: int) -> ColumnElement[bool]:
    """Tasks ``unit_id`` leads (an alias inside, so it never correlates with a join)."""
    link = aliased(TaskUnit)
    return Task.id.in_(sa.select(link.task_id).where(link.unit_id == unit_id, link.role == "lead"))


class days_between(FunctionElement):
    """Whole days from ``start`` to ``end`` (dates), on SQLite and PostgreSQL."""

    type = sa.Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between(element: days_between, compiler, **kw) -> str:
    end, start = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler, **kw) -> str:
    end, start = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)}) AS INTEGER)"
    )


# --- the Office screen -----------------------------------------------------------------------


def _awaiting_office(
    session: Session,
    query: sa.Select,
    entity: type[Report | ExtensionRequest],
    unit_ids: Sequence[int] | None,
) -> tuple[Sequence, dict[int, list[str]]]:
    """The rows of ``query`` (reports or extension requests, ``entity``) of the organisation's
    tasks, each with its task and plan loaded; and the lead units of those tasks."""
    rows = (
        session.scalars(
            query.join(entity.task)
            .join(Task.plan)
            .where(in_scope(unit_ids))
            .options(contains_eager(entity.task).contains_eager(Task.plan))
        )
        .unique()
        .all()
    )
    return rows, lead_units_by_task(session, (row.task_id for row in rows))


def _period(item: DueItem) -> str | None:
    return None if item.kind == "deadline" else describe_period(item.period_key)


@dataclass(frozen=True)
class QueuedReport:
    report: Report
    task: Task
    plan_code: str
    lead_units: list[str]
    periods: list[str | None]  # None: the task's completion deadline


def acceptance_queue(session: Session, unit_ids: Sequence[int] | None) -> list[QueuedReport]:
    """Reports waiting for the Office, the oldest first."""
    reports, leads = _awaiting_office(
        session,
        sa.select(Report)
        .where(Report.status == "submitted")
        .options(selectinload(Report.due_items), joinedload(Report.submitted_by))
        .order_by(Report.submitted_at, Report.id),
        Report,
        unit_ids,
    )
    return [
        QueuedReport(
            report=r,
            task=r.task,
            plan_code=r.task.plan.code,
            lead_units=leads.get(r.task_id, []),
            periods=[_period(d) for d in r.due_items],
        )
        for r in reports
    ]


@dataclass(frozen=True)
class PendingExtension:
    request: ExtensionRequest
    task: Task
    item: DueItem
    plan_code: str
    lead_units: list[str]
    period: str | None  # None: the task's completion deadline


def pending_extensions(session: Session, unit_ids: Sequence[int] | None) -> list[PendingExtension]:
    """Extension requests waiting for a decision, the oldest first."""
    requests, leads = _awaiting_office(
        session,
        sa.select(ExtensionRequest)
        .join(ExtensionRequest.due_item)
        .where(ExtensionRequest.status == "pending")
        .options(
            contains_eager(ExtensionRequest.due_item), joinedload(ExtensionRequest.requested_by)
        )
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id),
        ExtensionRequest,
        unit_ids,
    )
    return [
        PendingExtension(
            request=r,
            task=r.task,
            item=r.due_item,
            plan_code=r.task.plan.code,
            lead_units=leads.get(r.task_id, []),
            period=_period(r.due_item),
        )
        for r in requests
    ]


@dataclass(frozen=True)
class WaitingTask:
    task: Task
    plan_code: str
    lead_units: list[str]
    trigger: str
    since: date | None
    days_waited: int | None


def waiting_days(started: datetime | None, plan_issued_on: date | None, today: date) -> tuple:
    """(since, days waited): from the day the task was started (Vietnam time), or from the
    plan's issue date when it has no start in its history; (None, None) when neither is known."""
    since = local_date(started) if started is not None else plan_issued_on
    if since is None:
        return None, None
    return since, max(0, (today - since).days)


def waiting_tasks(
    session: Session,
    unit_ids: Sequence[int] | None,
    today: date,
    *,
    plan_id: int | None = None,
    task_ids: Collection[int] | None = None,
) -> list[WaitingTask]:
    """Tasks waiting for their guidance document (of one plan, with ``plan_id``), the longest
    waiting first. With ``task_ids``, those tasks instead of the ones waiting now: the caller
    knows which were waiting on ``today`` (a report on a past day)."""
    started = (
        sa.select(TaskEvent.task_id, sa.func.max(TaskEvent.at).label("at"))
        .where(TaskEvent.action == "start")
        .group_by(TaskEvent.task_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(Task, started.c.at)
        .join(Task.plan)
        .outerjoin(started, started.c.task_id == Task.id)
        .where(
            Task.status == "waiting" if task_ids is None else Task.id.in_(list(task_ids)),
            in_scope(unit_ids),
            sa.true() if plan_id is None else Task.plan_id == plan_id,
        )
        .options(contains_eager(Task.plan))
        .order_by(Plan.id, Task.position)
    ).all()
    leads = lead_units_by_task(session, (task.id for task, _ in rows))
    result = []
    for task, at in rows:
        if at is not None and at.tzinfo is None:  # stored in UTC
            at = at.replace(tzinfo=UTC)
        since, days = waiting_days(at, task.plan.issued_on, today)
        result.append(
            WaitingTask(
                task=task,
                plan_code=task.plan.code,
                lead_units=leads.get(task.id, []),
                trigger=task.timing_trigger or task.timing_raw,
                since=since,
                days_waited=days,
            )
        )
    result.sort(key=lambda w: -(w.days_waited or 0))
    return result


@dataclass(frozen=True)
class MissingReports:
    unit_id: int
    unit: str
    count: int
    oldest: date


def missing_reports(
    session: Session, unit_ids: Sequence[int] | None, today: date
) -> list[MissingReports]:
    """Periodic reports overdue as of ``today``, counted per lead unit (most missing first)."""
    query = (
        sa.select(Unit.id, Unit.name, sa.func.count(DueItem.id), sa.func.min(DueItem.due_date))
        .select_from(DueItem)
        .join(Task, DueItem.task_id == Task.id)
        .join(Plan, Task.plan_id == Plan.id)
        .join(TaskUnit, sa.and_(TaskUnit.task_id == Task.id, TaskUnit.role == "lead"))
        .join(Unit, TaskUnit.unit_id == Unit.id)
        .where(DueItem.kind == "report", is_overdue(today), in_scope(unit_ids))
        .group_by(Unit.id, Unit.name)
        .order_by(sa.func.count(DueItem.id).desc(), Unit.name)
    )
    return [MissingReports(*row) for row in session.execute(query)]


# --- the overdue board -----------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """The four classes for one unit or plan, and what leadership asks of the overdue ones."""

    key: int
    name: str
    code: str
    completed_on_time: int
    completed_late: int
    not_yet_due: int
    overdue: int
    oldest_overdue: date | None
    days_late: int

    @property
    def total(self) -> int:
        return self.completed_on_time + self.completed_late + self.not_yet_due + self.overdue

    @property
    def classes(self) -> dict[DueClass, int]:
        return {c: getattr(self, c.value) for c in DueClass}

    @property
    def on_time_rate(self) -> float | None:
        """Share of what has fallen due that was done on time; None when nothing has."""
        due = self.completed_on_time + self.completed_late + self.overdue
        return self.completed_on_time / due if due else None


def _ids(unit_ids: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if unit_ids is None else tuple(sorted(unit_ids))


def _by_class(as_of: date) -> list:
    """What each (key, class) group of due items adds up: how many, and for the overdue ones
    the oldest effective date and the days late. Grouping by the class evaluates the rule
    once per item rather than once per class."""
    late = is_overdue(as_of)
    return [
        due_class(as_of).label("board_class"),
        sa.func.count().label("items"),
        sa.func.min(sa.case((late, DueItem.due_date))).label("oldest"),
        sa.func.sum(
            sa.case((late, days_between(sa.literal(as_of, sa.Date), DueItem.due_date)))
        ).label("days"),
    ]


def _folded(rows: Iterable[Sequence]) -> list[Counts]:
    """Rows of (key, name, code, class, items, oldest, days), a key's rows together, as one
    :class:`Counts` per key in the order of the rows."""
    folded: dict[int, dict] = {}
    for key, name, code, klass, items, oldest, days in rows:
        row = folded.get(key)
        if row is None:
            row = folded[key] = {
                "key": key,
                "name": name,
                "code": code,
                **dict.fromkeys((c.value for c in DueClass), 0),
                "oldest_overdue": None,
                "days_late": 0,
            }
        row[klass] = int(items)
        if oldest is not None and (row["oldest_overdue"] is None or oldest < row["oldest_overdue"]):
            row["oldest_overdue"] = oldest
        row["days_late"] += int(days or 0)
    return [Counts(**row) for row in folded.values()]


def _filtered(
    query: sa.Select,
    as_of: date,
    unit_ids: Sequence[int] | None,
    plan_id: int | None,
    unit_id: int | None,
    kinds: Sequence[str],
) -> sa.Select:
    query = query.where(DueItem.kind.in_(kinds), live_as_of(as_of), in_scope(unit_ids))
    if plan_id is not None:
        query = query.where(Task.plan_id == plan_id)
    if unit_id is not None:
        query = query.where(led_by(unit_id))
    return query


def _kept(
    name: str, count: Callable[..., list[Counts]], session: Session, *args: object
) -> list[Counts]:
    """``count(session, as_of, unit_ids, plan_id, unit_id, kinds)``, kept under the stamp."""
    as_of, unit_ids, plan_id, unit_id, kinds = args
    key = (name, as_of, _ids(unit_ids), plan_id, unit_id, tuple(kinds))
    return list(stamp_cache.cached(session, key, lambda: count(session, *args)))


def per_unit(
    session: Session,
    as_of: date,
    unit_ids: Sequence[int] | None,
    *,
    plan_id: int | None = None,
    unit_id: int | None = None,
    kinds: Sequence[str] = DEADLINE_KINDS,
) -> list[Counts]:
    """The four classes per lead unit as of ``as_of`` (an item with two leads counts for both),
    with each unit's overdue count, oldest overdue date and total days late."""
    return _kept("per_unit", _per_unit, session, as_of, unit_ids, plan_id, unit_id, kinds)


def _per_unit(
    session: Session,
    as_of: date,
    unit_ids: Sequence[int] | None,
    plan_id: int | None,
    unit_id: int | None,
    kinds: Sequence[str],
) -> list[Counts]:
    grouped = (
        sa.select(TaskUnit.unit_id.label("board_key"), *_by_class(as_of))
        .select_from(DueItem)
        .join(Task, DueItem.task_id == Task.id)
        .join(Plan, Task.plan_id == Plan.id)
        .join(TaskUnit, sa.and_(TaskUnit.task_id == Task.id, TaskUnit.role == "lead"))
        .group_by(sa.literal_column("board_class"), sa.literal_column("board_key"))
    )
    grouped = _filtered(grouped, as_of, unit_ids, plan_id, None, kinds)
    if unit_id is not None:
        grouped = grouped.where(TaskUnit.unit_id == unit_id)
    grouped = grouped.subquery()
    query = (
        sa.select(Unit.id, Unit.name, Unit.code, *list(grouped.c)[1:])
        .join(grouped, grouped.c.board_key == Unit.id)
        .order_by(Unit.name, Unit.id)
    )
    return _folded(session.execute(query))


def per_plan(
    session: Session,
    as_of: date,
    unit_ids: Sequence[int] | None,
    *,
    plan_id: int | None = None,
    unit_id: int | None = None,
    kinds: Sequence[str] = DEADLINE_KINDS,
) -> list[Counts]:
    """The four classes per plan as of ``as_of`` (each due item counted once)."""
    return _kept("per_plan", _per_plan, session, as_of, unit_ids, plan_id, unit_id, kinds)


def _per_plan(
    session: Session,
    as_of: date,
    unit_ids: Sequence[int] | None,
    plan_id: int | None,
    unit_id: int | None,
    kinds: Sequence[str],
) -> list[Counts]:
    grouped = (
        sa.select(Task.plan_id.label("board_key"), *_by_class(as_of))
        .select_from(DueItem)
        .join(Task, DueItem.task_id == Task.id)
        .join(Plan, Task.plan_id == Plan.id)
        .group_by(sa.literal_column("board_class"), sa.literal_column("board_key"))
    )
    grouped = _filtered(grouped, as_of, unit_ids, plan_id, unit_id, kinds).subquery()
    query = (
        sa.select(Plan.id, Plan.number, Plan.code, *list(grouped.c)[1:])
        .join(grouped, grouped.c.board_key == Plan.id)
        .order_by(Plan.id)
    )
    return _folded(session.execute(query))


def task_classes(
    session: Session,
    as_of: date,
    unit_ids: Sequence[int] | None,
    plan_id: int,
    *,
    kinds: Sequence[str] = DEADLINE_KINDS,
) -> dict[int, DueClass]:
    """The class of each task of a plan as of ``as_of``, over the due items the board counts
    (the same filter and the same rule): one grouped query. A task with no such item (waiting,
    or ongoing with periodic reports only) is absent."""
    query = (
        sa.select(DueItem.task_id, due_class(as_of).label("board_class"))
        .join(Task, DueItem.task_id == Task.id)
        .join(Plan, Task.plan_id == Plan.id)
        .group_by(DueItem.task_id, sa.literal_column("board_class"))
    )
    found: dict[int, list[str]] = {}
    for task_id, klass in session.execute(_filtered(query, as_of, unit_ids, plan_id, None, kinds)):
        found.setdefault(task_id, []).append(klass)
    return {task_id: task_class(classes) for task_id, classes in found.items()}


@dataclass(frozen=True)
class PlanStates:
    """How many tasks of one plan are in each state of the lifecycle (zeros included)."""

    key: int
    name: str
    code: str
    states: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.states.values())


def states_per_plan(
    session: Session,
    unit_ids: Sequence[int] | None,
    *,
    plan_id: int | None = None,
    unit_id: int | None = None,
) -> list[PlanStates]:
    """The number of tasks in each state, per plan of the organisation: one grouped query.

    Follows the board's plan and lead-unit filters; a task's state is today's, so the board's
    date and kind of due item do not apply.
    """
    key = ("states_per_plan", _ids(unit_ids), plan_id, unit_id)
    shared = stamp_cache.cached(
        session, key, lambda: _states_per_plan(session, unit_ids, plan_id, unit_id)
    )
    return [PlanStates(row.key, row.name, row.code, dict(row.states)) for row in shared]


def _states_per_plan(
    session: Session, unit_ids: Sequence[int] | None, plan_id: int | None, unit_id: int | None
) -> list[PlanStates]:
    query = (
        sa.select(Plan.id, Plan.number, Plan.code, Task.status, sa.func.count(Task.id))
        .select_from(Task)
        .join(Plan, Task.plan_id == Plan.id)
        .where(in_scope(unit_ids))
        .group_by(Plan.id, Plan.number, Plan.code, Task.status)
        .order_by(Plan.id)
    )
    if plan_id is not None:
        query = query.where(Task.plan_id == plan_id)
    if unit_id is not None:
        query = query.where(led_by(unit_id))
    plans: dict[int, PlanStates] = {}
    for key, number, code, status, count in session.execute(query):
        row = plans.setdefault(key, PlanStates(key, number, code, dict.fromkeys(STATES, 0)))
        row.states[status] = int(count)
    return list(plans.values())


def plans_in_scope(session: Session, unit_ids: Sequence[int] | None) -> list[Plan]:
    """The plans a reader may filter the board by."""
    query = sa.select(Plan).order_by(Plan.id)
    if unit_ids is not None:
        query = query.where(Plan.issuer_unit_id.in_(unit_ids) | Plan.issuer_unit_id.is_(None))
    return list(session.scalars(query))


def unit_for(session: Session, user: User, unit_id: int) -> Unit:
    """A unit the board may drill into: it exists and belongs to the user's organisation."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(N_("unit %(unit)s does not exist"), unit=unit_id)
    require_organisation(user, unit, N_("read the board of this unit"))
    return unit


def plan_for(session: Session, user: User, plan_id: int) -> Plan:
    """A plan the board may show: it exists and belongs to the user's organisation."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(N_("plan %(plan)s does not exist"), plan=plan_id)
    require_organisation(
        user, plan.issuer, Message(N_("read the indicators of plan %(plan)s"), plan=plan.number)
    )
    return plan


@dataclass(frozen=True)
class EscalationShown:
    """The latest escalation step fired for an overdue item, as the board words it: ``days``
    after the effective date (counted as ``counting``), who was told, and the day it fired."""

    days: int
    counting: str
    to: tuple[str, ...]
    on: date
    rule_file: str


def escalations_shown(session: Session, item_ids: Sequence[int]) -> dict[int, EscalationShown]:
    """The latest escalation step of each of these due items that has one: one query."""
    if not item_ids:
        return {}
    latest: dict[int, Escalation] = {}
    for row in session.scalars(
        sa.select(Escalation)
        .where(Escalation.due_item_id.in_(list(item_ids)), Escalation.kind == "escalation")
        .order_by(Escalation.fired_at, Escalation.id)
    ):
        latest[row.due_item_id] = row
    return {
        item_id: EscalationShown(
            days=row.days,
            counting=row.counting,
            to=tuple(row.recipients),
            on=local_date(row.fired_at),
            rule_file=row.rule_file,
        )
        for item_id, row in latest.items()
    }
