"""A deterministic dataset of provincial size, for benchmarks: ``nhiemvu bench generate``.

The shape is the one issue 7 measured the usual tracker on: 60 units of uneven size (the largest
leads three times as many tasks as the smallest), two people per unit, N tasks across plans of
2,000 tasks, timings of the kinds the seed plans use (mostly fixed dates spread uniformly over
2025-2027, some recurring, ongoing and conditional ones), their due items, and states mixed as
in real life as of a day (of the tasks due before it, about 55 % closed, 10 % reported, 20 % in
progress and 15 % not started, that is in progress at 0 %). Each task that moved has the one
history row of its last move.

Rows are drawn from a seeded random generator, so one seed and as-of day always give the same
data (whatever the clock says; the instance's ``horizon_months`` sets how far ahead due items
go, as it does for the engine); what the engine decides is decided by the engine: timings are read by :func:`parse_timing`, due items
come from :func:`desired_due_items` and dates roll forward with the working calendar. The rows
are written with bulk INSERTs in one transaction: nothing is left behind if it fails.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher

from workflow.context import Context
from workflow.due import Generation, desired_due_items
from workflow.errors import InvalidInput
from workflow.messages import N_
from workflow.models import (
    DueItem,
    Plan,
    Report,
    Task,
    TaskEvent,
    TaskUnit,
    Unit,
    User,
)
from workflow.text import fold_key
from workflow.timing import Timing, parse_timing

FIRST_DAY = date(2025, 1, 1)
LAST_DAY = date(2027, 12, 31)
DEFAULT_AS_OF = date(2026, 11, 22)
TASKS_PER_PLAN = 2_000
ROOT_CODE = "BENCH"
ROOT_NAME = "Ủy ban nhân dân tỉnh (dữ liệu đo)"
OFFICE_CODE = "BENCH-VP"
OFFICE_USER = "bench.office"
LEADER_USER = "bench.leader"
ADMIN_USER = "bench.admin"

# (share, kind) of the timings; fixed dates take the rest
RECURRING_SHARE, ONGOING_SHARE, CONDITIONAL_SHARE = 0.06, 0.08, 0.04
RECURRING_TEXTS = ("Hàng năm", "Hằng quý", "Hàng quý", "6 tháng một lần")
CONDITIONAL_TEXT = "Sau khi có hướng dẫn của Trung ương"
QUARTERS = ("I", "II", "III", "IV")
NAMES = (
    "Xây dựng, cập nhật cơ sở dữ liệu chuyên ngành",
    "Triển khai nền tảng số dùng chung của tỉnh",
    "Rà soát, đề xuất đặt hàng nhiệm vụ khoa học và công nghệ",
    "Đào tạo, bồi dưỡng kỹ năng số cho cán bộ, công chức",
    "Hoàn thiện thể chế về đổi mới sáng tạo và chuyển đổi số",
    "Cung cấp dịch vụ công trực tuyến toàn trình",
    "Kiểm tra việc sử dụng kinh phí sự nghiệp khoa học và công nghệ",
    "Tổng hợp, báo cáo kết quả thực hiện Nghị quyết",
    "Hỗ trợ doanh nghiệp đổi mới công nghệ",
    "Bảo đảm an toàn, an ninh mạng cho hệ thống thông tin",
)
REGIMES = ("annual:14/12", "semiannual:14; annual:14/12", "annual:14/12")


@dataclass(frozen=True)
class Shape:
    """What to generate."""

    tasks: int
    units: int = 60
    seed: int = 1
    as_of: date = DEFAULT_AS_OF

    def check(self) -> None:
        if self.tasks < 1:
            raise InvalidInput(N_("--tasks: must be at least 1"))
        if self.units < 2:
            raise InvalidInput(N_("--units: must be at least 2"))


@dataclass
class Generated:
    units: int = 0
    users: int = 0
    plans: int = 0
    tasks: int = 0
    due_items: int = 0
    reports: int = 0
    events: int = 0
    states: dict[str, int] = field(default_factory=dict)


class _Ids:
    """The next free id of each table: the rows are linked before they are written."""

    def __init__(self, ctx: Context) -> None:
        self._next = {
            model: (ctx.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
            for model in (Unit, User, Plan, Task, DueItem, Report, TaskEvent)
        }

    def take(self, model: type) -> int:
        value = self._next[model]
        self._next[model] = value + 1
        return value


def generate(
    ctx: Context, shape: Shape, password: str, progress: Callable[[str], None] = lambda _: None
) -> Generated:
    """Fill an empty database with the dataset; the caller's unit of work commits it."""
    shape.check()
    held = sa.select(Task.id).union_all(sa.select(Unit.id)).limit(1)
    if ctx.session.execute(held).first() is not None:
        raise InvalidInput(
            N_("the database already holds units or tasks: generate into an empty one")
        )
    rng = random.Random(shape.seed)
    ids = _Ids(ctx)
    result = Generated()
    people = _organisation(ctx, shape, rng, ids, PasswordHasher().hash(password), result)
    remaining, number = shape.tasks, 0
    while remaining:
        count = min(TASKS_PER_PLAN, remaining)
        number += 1
        _plan(ctx, shape, rng, ids, people, number, count, result)
        remaining -= count
        progress(f"plan {number}: {result.tasks:,} of {shape.tasks:,} tasks written")
    _align_sequences(ctx)
    return result


# --- units and people ------------------------------------------------------------------------


@dataclass
class _People:
    unit_ids: list[int]
    weights: list[float]
    unit_names: dict[int, str]
    heads: dict[int, int]  # unit id -> the unit head's user id
    office: int
    root: int


def _organisation(
    ctx: Context, shape: Shape, rng: random.Random, ids: _Ids, password_hash: str, out: Generated
) -> _People:
    now = ctx.now()
    root, office = ids.take(Unit), ids.take(Unit)
    units = [
        _unit(root, ROOT_CODE, ROOT_NAME, "province", None, now),
        _unit(
            office, OFFICE_CODE, "Văn phòng Ủy ban nhân dân tỉnh (dữ liệu đo)", "office", root, now
        ),
    ]
    users = [
        _user(ids, OFFICE_USER, "Văn phòng (đo)", "office", office, password_hash, now),
        _user(ids, LEADER_USER, "Lãnh đạo tỉnh (đo)", "leadership", root, password_hash, now),
        _user(ids, ADMIN_USER, "Quản trị (đo)", "admin", None, password_hash, now),
    ]
    unit_ids, names, heads = [], {}, {}
    for n in range(1, shape.units + 1):
        unit_id, code = ids.take(Unit), f"U{n:02d}"
        kind, title = ("department", "Sở") if n % 3 else ("ward", "Phường")
        names[unit_id] = f"{title} số {n} (đo)"
        units.append(_unit(unit_id, code, names[unit_id], kind, root, now))
        head = _user(
            ids,
            f"{code.lower()}.head",
            f"Trưởng {names[unit_id]}",
            "unit_head",
            unit_id,
            password_hash,
            now,
        )
        users.append(head)
        users.append(
            _user(
                ids,
                f"{code.lower()}.delegate",
                f"Cán bộ {names[unit_id]}",
                "unit_delegate",
                unit_id,
                password_hash,
                now,
            )
        )
        unit_ids.append(unit_id)
        heads[unit_id] = head["id"]
    weights = [1 + 2 * i / max(1, shape.units - 1) for i in range(shape.units)]
    rng.shuffle(weights)
    _insert(ctx, Unit, units)
    _insert(ctx, User, users)
    out.units, out.users = len(units), len(users)
    return _People(unit_ids, weights, names, heads, users[0]["id"], root)


def _unit(unit_id: int, code: str, name: str, kind: str, parent: int | None, now: datetime) -> dict:
    return {
        "id": unit_id,
        "code": code,
        "name": name,
        "name_key": fold_key(name),
        "kind": kind,
        "parent_id": parent,
        "active": True,
        "created_at": now,
        "updated_at": now,
    }


def _user(
    ids: _Ids,
    username: str,
    full_name: str,
    role: str,
    unit_id: int | None,
    hashed: str,
    now: datetime,
) -> dict:
    return {
        "id": ids.take(User),
        "username": username,
        "full_name": full_name,
        "email": f"{username}@bench.invalid",
        "role": role,
        "unit_id": unit_id,
        "password_hash": hashed,
        "session_token": None,
        "failed_logins": 0,
        "active": True,
        "created_at": now,
        "updated_at": now,
    }


# --- plans and tasks -------------------------------------------------------------------------


@dataclass
class _Rows:
    tasks: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def _plan(
    ctx: Context,
    shape: Shape,
    rng: random.Random,
    ids: _Ids,
    people: _People,
    number: int,
    count: int,
    out: Generated,
) -> None:
    now = ctx.now()
    issued = FIRST_DAY - timedelta(days=rng.randint(20, 120))
    plan = Plan(
        id=ids.take(Plan),
        code=f"bench-{number:03d}",
        number=f"{number}/KH-UBND",
        title=f"Kế hoạch số {number} thực hiện Nghị quyết 57-NQ/TW (dữ liệu đo)",
        issuer_unit_id=people.root,
        issuer_text=ROOT_NAME,  # as a plan names its issuer: a re-import resolves it
        issued_on=issued,
        issued_text=f"ngày {issued.day}/{issued.month}/{issued.year}",
        implements=["57-NQ/TW"],
        status="active",
        reporting_regime=REGIMES[number % len(REGIMES)],
        reporting_regime_text="",
        source="nhiemvu bench generate",
        created_at=now,
        updated_at=now,
    )
    _insert(ctx, Plan, [_columns(plan, Plan)])
    rows = _Rows()
    for position in range(1, count + 1):
        _task(ctx, shape, rng, ids, people, plan, position, rows, out)
    for model, batch in (
        (Task, rows.tasks),
        (TaskUnit, rows.links),
        (Report, rows.reports),
        (DueItem, rows.items),
        (TaskEvent, rows.events),
    ):
        _insert(ctx, model, batch)
    out.plans += 1
    out.tasks += len(rows.tasks)
    out.due_items += len(rows.items)
    out.reports += len(rows.reports)
    out.events += len(rows.events)


def _timing_text(rng: random.Random) -> str:
    draw = rng.random()
    if draw < RECURRING_SHARE:
        return rng.choice(RECURRING_TEXTS)
    if draw < RECURRING_SHARE + ONGOING_SHARE:
        return "Thường xuyên"
    if draw < RECURRING_SHARE + ONGOING_SHARE + CONDITIONAL_SHARE:
        return CONDITIONAL_TEXT
    day = FIRST_DAY + timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))
    form = rng.random()
    if form < 0.6:
        return f"Trước ngày {day.day}/{day.month}/{day.year}"
    if form < 0.85:
        return f"{day.month}/{day.year}"
    if form < 0.95:
        return f"Quý {QUARTERS[(day.month - 1) // 3]}/{day.year}"
    return str(day.year)


def _state(rng: random.Random, kind: str, deadline: date | None, as_of: date) -> tuple[str, int]:
    """(state, progress) as of ``as_of``, in the proportions seen in real plans."""
    if kind == "conditional":
        return "waiting", 0
    draw = rng.random()
    if kind in ("recurring", "ongoing"):
        return ("reported", rng.randint(20, 90)) if draw < 0.1 else ("in_progress", 0)
    if deadline is not None and deadline < as_of:
        if draw < 0.55:
            return "closed", 100
        if draw < 0.65:
            return "reported", 100
        if draw < 0.85:
            return "in_progress", rng.randint(10, 90)
        return "in_progress", 0
    if draw < 0.08:
        return "closed", 100
    if draw < 0.13:
        return "reported", 100
    return "in_progress", rng.randint(0, 60)


def _moment(day: date) -> datetime:
    """Mid-morning in Vietnam on ``day``, in UTC."""
    return datetime.combine(day, time(3, 0), tzinfo=UTC)


@dataclass
class _Draft:
    """What :func:`desired_due_items` reads of a task, without the cost of an ORM object."""

    id: int
    plan: Plan
    status: str
    timing: Timing
    progress: int
    started_on: date | None
    reporting_since: date | None
    closed_on: date | None
    created_at: datetime
    trigger_document: None = None

    @property
    def timing_kind(self) -> str:
        return self.timing.kind.value

    @property
    def timing_deadline(self) -> date | None:
        return self.timing.deadline


@functools.cache
def _name_key(index: int) -> str:
    return fold_key(NAMES[index])


def _task(
    ctx: Context,
    shape: Shape,
    rng: random.Random,
    ids: _Ids,
    people: _People,
    plan: Plan,
    position: int,
    rows: _Rows,
    out: Generated,
) -> None:
    timing = parse_timing(_timing_text(rng))
    status, progress = _state(rng, timing.kind.value, timing.deadline, shape.as_of)
    lead = rng.choices(people.unit_ids, people.weights)[0]
    partners = [u for u in rng.sample(people.unit_ids, 2) if u != lead][: rng.choice((0, 0, 1, 2))]
    started = None if status == "waiting" else plan.issued_on
    done_on = (
        _done_on(rng, timing.deadline, plan.issued_on, shape.as_of)
        if status in ("closed", "reported")
        else None
    )
    task = _Draft(
        id=ids.take(Task),
        plan=plan,
        status=status,
        timing=timing,
        progress=progress,
        started_on=started,
        reporting_since=started,
        closed_on=done_on if status == "closed" else None,
        created_at=_moment(plan.issued_on),
    )
    suffix = f"(nhiệm vụ {plan.code}-{position})"
    rows.tasks.append(
        {
            "id": task.id,
            "plan_id": plan.id,
            "section_id": None,
            "ref": str(position),
            "number": str(position),
            "position": position,
            "name": f"{NAMES[position % len(NAMES)]} {suffix}",
            "name_key": f"{_name_key(position % len(NAMES))} {fold_key(suffix)}",
            "outputs": "",
            "lead_units_text": people.unit_names[lead],
            "cooperating_units_text": "; ".join(people.unit_names[u] for u in partners),
            "timing_raw": timing.raw,
            "timing_kind": timing.kind.value,
            "timing_deadline": timing.deadline,
            "timing_start": timing.start,
            "timing_frequency": timing.frequency.value if timing.frequency else None,
            "timing_anchor_day": timing.anchor_day,
            "timing_anchor_month": timing.anchor_month,
            "timing_trigger": timing.trigger,
            "status": status,
            "progress": progress,
            "started_on": started,
            "reporting_since": started,
            "closed_on": task.closed_on,
            "trigger_document_id": None,
            "superseded_by_id": None,
            "version": 2,
            "created_at": task.created_at,
            "updated_at": _moment(done_on or plan.issued_on),
        }
    )
    rows.links.append({"task_id": task.id, "unit_id": lead, "role": "lead", "position": 0})
    rows.links += [
        {"task_id": task.id, "unit_id": u, "role": "cooperating", "position": i + 1}
        for i, u in enumerate(partners)
    ]
    report_id = _report(ids, people, task, lead, done_on, rows) if done_on else None
    _due_items(ctx, rng, ids, task, report_id, done_on, shape.as_of, rows)
    rows.events.append(_event(ids, people, task, lead, done_on))
    out.states[status] = out.states.get(status, 0) + 1


def _done_on(rng: random.Random, deadline: date | None, started: date, as_of: date) -> date:
    """When a closed or reported task's report came: around its deadline, never after as_of."""
    aim = deadline or as_of
    day = aim + timedelta(days=rng.randint(-60, 25))
    return max(started, min(day, as_of - timedelta(days=1)))


def _report(ids: _Ids, people: _People, task: _Draft, lead: int, done_on: date, rows: _Rows) -> int:
    report_id = ids.take(Report)
    closed = task.status == "closed"
    rows.reports.append(
        {
            "id": report_id,
            "task_id": task.id,
            "text": "Đã hoàn thành nhiệm vụ, kèm kết quả." if closed else "Báo cáo tiến độ.",
            "progress": task.progress,
            "status": "accepted" if closed else "submitted",
            "submitted_at": _moment(done_on),
            "submitted_by_id": people.heads[lead],
            "reviewed_at": _moment(done_on) if closed else None,
            "reviewed_by_id": people.office if closed else None,
            "review_note": "",
        }
    )
    return report_id


def _due_items(
    ctx: Context,
    rng: random.Random,
    ids: _Ids,
    task: _Draft,
    report_id: int | None,
    done_on: date | None,
    as_of: date,
    rows: _Rows,
) -> None:
    generation = Generation(as_of, ctx.settings.horizon_months, ctx.rules, ctx.calendar)
    for (kind, period), nominal in sorted(desired_due_items(task, generation).items()):
        effective = ctx.calendar.effective_date(nominal)
        satisfied_on = None
        if kind == "deadline" and done_on is not None:
            satisfied_on = done_on
        elif kind != "deadline" and effective < as_of and rng.random() < 0.8:
            satisfied_on = min(effective + timedelta(days=rng.randint(-10, 12)), as_of)
        rows.items.append(
            {
                "id": ids.take(DueItem),
                "task_id": task.id,
                "kind": kind,
                "period_key": period,
                "nominal_date": nominal,
                "original_due_date": effective,
                "due_date": effective,
                "extended_to": None,
                "status": "satisfied" if satisfied_on else "open",
                "satisfied_at": _moment(satisfied_on) if satisfied_on else None,
                "satisfied_on": satisfied_on,
                "cancelled_on": None,
                "report_id": report_id if kind == "deadline" and satisfied_on else None,
                "sequence": 0,
                "created_at": task.created_at,
                "updated_at": _moment(satisfied_on) if satisfied_on else task.created_at,
            }
        )


def _event(ids: _Ids, people: _People, task: _Draft, lead: int, done_on: date | None) -> dict:
    """The history row of the task's last move."""
    action, before, actor, day = {
        "closed": ("accept", "reported", people.office, done_on),
        "reported": ("report", "in_progress", people.heads[lead], done_on),
        "waiting": ("start", "draft", people.office, task.plan.issued_on),
        "in_progress": ("start", "draft", people.office, task.plan.issued_on),
    }[task.status]
    return {
        "id": ids.take(TaskEvent),
        "task_id": task.id,
        "at": _moment(day),
        "actor_id": actor,
        "action": action,
        "from_status": before,
        "to_status": task.status,
        "note": "",
        "changes": {"progress": task.progress} if action == "report" else {},
    }


# --- writing ---------------------------------------------------------------------------------


def _columns(obj: object, model: type) -> dict:
    return {c.key: getattr(obj, c.key) for c in sa.inspect(model).column_attrs}


def _insert(ctx: Context, model: type, rows: list[dict]) -> None:
    """Core executemany (the ORM's bulk path would write row by row where values are NULL)."""
    for batch in _batches(rows, 5_000):
        ctx.session.execute(sa.insert(model.__table__), batch)


def _batches(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _align_sequences(ctx: Context) -> None:
    """PostgreSQL: ids were given explicitly, so each table's sequence must move past them."""
    if ctx.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Unit, User, Plan, Task, DueItem, Report, TaskEvent):
        table = model.__tablename__
        ctx.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
