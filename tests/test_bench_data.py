"""`nhiemvu bench generate`: a deterministic dataset of provincial size, for benchmarks.

What a user of the benchmark relies on: one seed always gives the same data; the data has the
announced shape (60 units of uneven size, plans of 2,000 tasks, timings of every kind, states
mixed as of a day); the engine agrees with every row (due items, name keys, timings, history,
reports), so a benchmark measures the real thing; and the database keeps working afterwards.

The tests generate into the emptied test database (the clock on 22/11/2026, the default
as-of day); the one about ids handed out afterwards into a new database of its own, and the
command line on SQLite into a new instance folder. Ids are never assumed: rows are compared by
plan code and position.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import aliased

from tests.conftest import TASK_HEADER, _empty_tables, database_on
from tests.test_cli import nhiemvu, ok, refused
from workflow import migrate
from workflow.accounts import sign_in
from workflow.administration import create_unit
from workflow.bench_data import TASKS_PER_PLAN, Generated, Shape, generate
from workflow.cli import cli
from workflow.clock import FixedClock
from workflow.config import PROJECT_ROOT, Settings
from workflow.context import Engine
from workflow.due import desired_due_items, regenerate
from workflow.errors import InvalidInput
from workflow.importer import PlanSource, Table, import_plan
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
from workflow.tasks import accept_report, start_plan, submit_report
from workflow.text import fold_key
from workflow.timing import parse_timing
from workflow.units import UnitDirectory

SERVER = os.environ.get("NHIEMVU_TEST_DATABASE_URL") or None
AS_OF = date(2026, 11, 22)
PASSWORD = "mat-khau-do-hieu-nang"
EMPTY = "the database already holds units or tasks: generate into an empty one"
COUNTED = {
    "units": Unit,
    "users": User,
    "plans": Plan,
    "tasks": Task,
    "due_items": DueItem,
    "reports": Report,
    "events": TaskEvent,
}


# --- a database of its own ----------------------------------------------------------------------


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new migrated database of this test's own, its clock on AS_OF: on
    PostgreSQL a database whose id sequences start at 1, as in a new instance (the shared test
    database's sequences are ahead of any generated id). Dropped after the test."""
    with ExitStack() as stack:
        if SERVER is not None:
            url = stack.enter_context(database_on(SERVER, "nhiemvu_bench"))
        else:
            url = f"sqlite:///{tmp_path / 'fresh.db'}"
        settings = Settings(
            instance_path=tmp_path, database_url=url, rules_dir=PROJECT_ROOT / "rules"
        )
        engine = Engine(settings, FixedClock.on(AS_OF))
        stack.callback(engine.close)
        migrate.upgrade(engine.database)
        yield engine


def generated(engine: Engine, tasks: int, **shape: object) -> Generated:
    with engine.context() as ctx:
        return generate(ctx, Shape(tasks=tasks, **shape), PASSWORD)


def counts(engine: Engine) -> dict[str, int]:
    with engine.context(write=False) as ctx:
        return {
            name: ctx.session.scalar(sa.select(sa.func.count()).select_from(model))
            for name, model in COUNTED.items()
        }


# --- what the data is, without its ids ---------------------------------------------------------


def snapshot(engine: Engine) -> dict[str, tuple[int, str]]:
    """(rows, digest) of every generated table, each row named by codes and positions."""
    lead = aliased(Unit)
    where = (Plan.code, Task.position)
    queries = {
        "units": sa.select(Unit.code, Unit.name, Unit.kind, Unit.parent_id.is_(None)).order_by(
            Unit.code
        ),
        "users": sa.select(User.username, User.full_name, User.role).order_by(User.username),
        "plans": sa.select(
            Plan.code, Plan.number, Plan.issued_on, Plan.reporting_regime, Plan.status
        ).order_by(Plan.code),
        "tasks": sa.select(
            *where,
            Task.name,
            Task.timing_raw,
            Task.timing_kind,
            Task.timing_deadline,
            Task.status,
            Task.progress,
            Task.started_on,
            Task.closed_on,
            Task.lead_units_text,
            Task.cooperating_units_text,
        )
        .join(Plan)
        .order_by(*where),
        "task_units": sa.select(*where, lead.code, TaskUnit.role, TaskUnit.position)
        .select_from(TaskUnit)
        .join(Task)
        .join(Plan)
        .join(lead, lead.id == TaskUnit.unit_id)
        .order_by(*where, TaskUnit.position),
        "due_items": sa.select(
            *where,
            DueItem.kind,
            DueItem.period_key,
            DueItem.nominal_date,
            DueItem.due_date,
            DueItem.status,
            DueItem.satisfied_on,
            DueItem.report_id.is_not(None),
        )
        .join(Task, Task.id == DueItem.task_id)
        .join(Plan)
        .order_by(*where, DueItem.kind, DueItem.period_key),
        "reports": sa.select(
            *where, Report.status, Report.progress, Report.submitted_at, User.username
        )
        .join(Task, Task.id == Report.task_id)
        .join(Plan)
        .join(User, User.id == Report.submitted_by_id)
        .order_by(*where),
        "events": sa.select(
            *where, TaskEvent.action, TaskEvent.from_status, TaskEvent.to_status, TaskEvent.at
        )
        .join(Task, Task.id == TaskEvent.task_id)
        .join(Plan)
        .order_by(*where),
    }
    with engine.context(write=False) as ctx:
        rows = {name: ctx.session.execute(query).all() for name, query in queries.items()}
    return {
        name: (len(found), hashlib.sha256(repr(found).encode()).hexdigest())
        for name, found in rows.items()
    }


def test_one_seed_gives_the_same_data_and_another_seed_other_data(engine, migrated):
    made = generated(engine, 600, seed=7)
    first = snapshot(engine)
    _empty_tables(migrated)
    assert generated(engine, 600, seed=7) == made
    assert snapshot(engine) == first
    assert first["tasks"][0] == 600
    _empty_tables(migrated)
    generated(engine, 600, seed=8)
    other = snapshot(engine)
    for table in ("tasks", "task_units", "due_items", "reports", "events"):
        assert other[table][1] != first[table][1], table
    assert other["units"] == first["units"]  # the organisation is the same, its load is not


def test_the_data_does_not_depend_on_the_day_it_is_generated(engine, migrated, clock):
    generated(engine, 500, seed=3, as_of=AS_OF)
    on_the_day = snapshot(engine)
    _empty_tables(migrated)
    clock.set(date(2027, 3, 1))
    generated(engine, 500, seed=3, as_of=AS_OF)
    assert snapshot(engine) == on_the_day


# --- the shape -----------------------------------------------------------------------------------


def test_the_dataset_has_the_announced_shape(engine):
    made = generated(engine, 2_500, seed=5)

    in_database = counts(engine)
    assert {name: getattr(made, name) for name in COUNTED} == in_database
    assert (made.units, made.users) == (60 + 2, 2 * 60 + 3)
    assert made.plans == math.ceil(2_500 / TASKS_PER_PLAN) == 2
    assert made.events == made.tasks == 2_500
    assert sum(made.states.values()) == made.tasks

    with engine.context(write=False) as ctx:
        s = ctx.session
        assert made.states == dict(
            s.execute(sa.select(Task.status, sa.func.count()).group_by(Task.status)).all()
        )
        per_plan = s.execute(
            sa.select(Plan.code, sa.func.count(Task.id), sa.func.min(Task.position))
            .join(Task)
            .group_by(Plan.code)
            .order_by(Plan.code)
        ).all()
        assert [tuple(row) for row in per_plan] == [("bench-001", 2_000, 1), ("bench-002", 500, 1)]

        # every unit leads tasks, the busiest about three times as many as the least busy
        led = Counter(
            dict(
                s.execute(
                    sa.select(TaskUnit.unit_id, sa.func.count())
                    .where(TaskUnit.role == "lead")
                    .group_by(TaskUnit.unit_id)
                ).all()
            )
        )
        departments = s.scalars(sa.select(Unit.id).where(Unit.code.like("U%"))).all()
        assert len(departments) == 60
        loads = sorted(led[unit] for unit in departments)
        assert loads[0] > 0
        assert sum(loads) == 2_500  # one lead unit per task
        ratio = statistics.mean(loads[-10:]) / statistics.mean(loads[:10])
        assert 2 <= ratio <= 4, loads

        kinds = Counter(s.scalars(sa.select(Task.timing_kind)))
        assert {"fixed", "recurring", "ongoing", "conditional"} <= set(kinds)
        assert kinds["fixed"] > 0.7 * 2_500  # fixed dates are the bulk, as in real plans

        # of the tasks whose fixed deadline passed, about 55 % closed, 10 % reported, 35 % in
        # progress (a few of them at 0 %)
        past = Counter(
            s.scalars(
                sa.select(Task.status).where(
                    Task.timing_kind == "fixed", Task.timing_deadline < AS_OF
                )
            )
        )
        total = past.total()
        assert total > 1_000
        assert set(past) == {"closed", "reported", "in_progress"}
        assert 0.45 <= past["closed"] / total <= 0.65, past
        assert 0.05 <= past["reported"] / total <= 0.15, past
        assert 0.25 <= past["in_progress"] / total <= 0.45, past
        # conditional tasks wait for their guidance and owe nothing yet
        assert set(s.scalars(sa.select(Task.status).where(Task.timing_kind == "conditional"))) == {
            "waiting"
        }


# --- the engine agrees with every row ------------------------------------------------------------


def test_the_engine_would_have_written_exactly_these_due_items(engine):
    generated(engine, 2_100, seed=11)  # two plans, two reporting regimes

    with engine.context(write=False) as ctx:
        generation = ctx.generation()
        stored: dict[int, dict[tuple[str, str], DueItem]] = defaultdict(dict)
        for item in ctx.session.scalars(sa.select(DueItem)):
            stored[item.task_id][item.kind, item.period_key] = item
        tasks = ctx.session.scalars(sa.select(Task).order_by(Task.id)).all()
        assert len(tasks) == 2_100
        disagreements = []
        for task in tasks:
            wanted = desired_due_items(task, generation)
            have = stored.get(task.id, {})
            if {key: item.nominal_date for key, item in have.items()} != wanted:
                disagreements.append((task.ref, task.status, sorted(wanted), sorted(have)))
            for item in have.values():
                effective = ctx.calendar.effective_date(item.nominal_date)
                assert item.original_due_date == item.due_date == effective, (task.ref, item)
                assert item.satisfied_on is None or item.satisfied_on <= AS_OF, (task.ref, item)
            changes = regenerate(ctx.session, task, generation)
            if changes:
                disagreements.append((task.ref, task.status, changes.as_dict()))
        assert disagreements == []
        assert not ctx.session.new
        assert not [item for item in ctx.session.dirty if ctx.session.is_modified(item)]
        # tasks that owe nothing do not count as late: waiting tasks have no items at all
        waiting = [t for t in tasks if t.status == "waiting"]
        assert waiting and all(t.id not in stored for t in waiting)


def test_names_timings_and_units_read_as_the_engine_reads_them(engine):
    generated(engine, 800, seed=13)

    with engine.context(write=False) as ctx:
        root = ctx.session.scalar(sa.select(Unit).where(Unit.code == "BENCH"))
        directory = UnitDirectory(ctx.session)
        for task in ctx.session.scalars(sa.select(Task)):
            assert task.name_key == fold_key(task.name), task.ref
            timing = parse_timing(task.timing_raw)
            assert timing == task.timing, task.ref
            assert not task.needs_review
            # what the plan's table says of the units is what the task is linked to
            assert directory.resolve_cell(task.lead_units_text, root) == task.lead_units
            assert len(task.lead_units) == 1
            assert (
                directory.resolve_cell(task.cooperating_units_text, root) == task.cooperating_units
            )
            assert task.lead_units[0] not in task.cooperating_units


def test_each_task_has_the_history_and_reports_of_its_state(engine):
    made = generated(engine, 800, seed=17)
    assert made.states["closed"] and made.states["reported"]

    with engine.context(write=False) as ctx:
        s = ctx.session
        events: dict[int, list[TaskEvent]] = defaultdict(list)
        for event in s.scalars(sa.select(TaskEvent)):
            events[event.task_id].append(event)
        reports: dict[int, list[Report]] = defaultdict(list)
        for report in s.scalars(sa.select(Report)):
            reports[report.task_id].append(report)
        deadlines = {
            item.task_id: item
            for item in s.scalars(sa.select(DueItem).where(DueItem.kind == "deadline"))
        }
        heads = {u.id: u.unit_id for u in s.scalars(sa.select(User))}
        for task in s.scalars(sa.select(Task)):
            [event] = events[task.id]
            assert event.to_status == task.status, task.ref
            assert event.at.date() <= AS_OF
            lead = task.lead_units[0]
            deadline = deadlines.get(task.id)
            if task.status == "closed":
                [report] = reports[task.id]
                assert (report.status, report.progress, task.progress) == ("accepted", 100, 100)
                assert report.reviewed_by is not None and report.reviewed_by.role == "office"
                assert deadline is not None and deadline.status == "satisfied", task.ref
                assert deadline.report_id == report.id
                assert task.closed_on == deadline.satisfied_on <= AS_OF
                assert event.action == "accept"
            elif task.status == "reported":
                [report] = reports[task.id]
                assert report.status == "submitted" and report.reviewed_at is None
                assert report.progress == task.progress
                if deadline is not None:
                    assert (deadline.status, deadline.report_id) == ("satisfied", report.id)
                assert event.action == "report"
            else:
                assert reports[task.id] == [], task.ref
                assert task.closed_on is None
                assert deadline is None or deadline.report_id is None
            for report in reports[task.id]:
                assert heads[report.submitted_by_id] == lead.id  # the lead unit reported


# --- the engine keeps working on the data --------------------------------------------------------


def test_the_engine_keeps_working_after_generating(fresh):
    """In a new database: the ids given explicitly must not be handed out again."""
    engine = fresh
    generated(engine, 300, seed=19)
    before = counts(engine)

    with engine.context() as ctx:
        assert sign_in(ctx, "u01.head", "not the password").user is None
    with engine.context() as ctx:
        signed = sign_in(ctx, "u01.head", PASSWORD)
        assert signed.user is not None and signed.user.unit.code == "U01"
        for name in ("bench.office", "bench.leader", "bench.admin", "u60.delegate"):
            assert sign_in(ctx, name, PASSWORD).user is not None, name

    with engine.context() as ctx:  # new rows of every generated table, with ids of their own
        s = ctx.session
        admin = s.scalar(sa.select(User).where(User.username == "bench.admin"))
        office = s.scalar(sa.select(User).where(User.username == "bench.office"))
        root = s.scalar(sa.select(Unit).where(Unit.code == "BENCH"))
        unit = create_unit(
            ctx, admin, code="U99", name="Sở mới (đo)", parent_id=root.id, kind="department"
        )
        s.add(User(username="u99.head", full_name="Trưởng Sở mới", role="unit_head", unit=unit))
        rows = [(2, ["1", "Nhiệm vụ mới", "Sở mới (đo)", "Sở số 1 (đo)", "Trước ngày 30/6/2027"])]
        fields = {"code": "bench-moi", "number": "99/KH-UBND", "title": "Kế hoạch mới"}
        source = PlanSource(
            "bench-moi.toml",
            {**fields, "issuer": "BENCH", "reporting_regime": "annual:14/12"},
            tasks=Table("tasks.csv", TASK_HEADER, rows),
        )
        plan = import_plan(ctx, office, source).plan
        [started] = start_plan(ctx, office, plan.id)
        assert started.status == "in_progress" and started.lead_units == [unit]

    with engine.context() as ctx:  # a generated task reported on and accepted, as usual
        s = ctx.session
        office = s.scalar(sa.select(User).where(User.username == "bench.office"))
        task = s.scalar(
            sa.select(Task)
            .where(Task.status == "in_progress", Task.timing_kind == "fixed")
            .order_by(Task.id)
            .limit(1)
        )
        head = s.scalar(
            sa.select(User).where(User.unit_id == task.lead_units[0].id, User.role == "unit_head")
        )
        report = submit_report(
            ctx, head, task, text="Đã xong.", progress=100, period_key="deadline"
        )
        accept_report(ctx, office, report.id)
        assert task.status == "closed"
        ref = (task.plan.code, task.ref)

    after = counts(engine)
    assert after["units"] == before["units"] + 1
    assert after["users"] == before["users"] + 1
    assert after["plans"] == before["plans"] + 1
    assert after["tasks"] == before["tasks"] + 1
    assert after["reports"] == before["reports"] + 1
    assert after["due_items"] > before["due_items"]
    # the new task was imported and started, the generated one reported on and accepted
    assert after["events"] == before["events"] + 4
    with engine.context(write=False) as ctx:
        closed = ctx.session.scalar(
            sa.select(Task).join(Plan).where(Plan.code == ref[0], Task.ref == ref[1])
        )
        actions = ctx.session.scalars(
            sa.select(TaskEvent.action).where(TaskEvent.task_id == closed.id).order_by(TaskEvent.id)
        ).all()
        assert (closed.status, actions) == ("closed", ["start", "report", "accept"])


# --- refusals --------------------------------------------------------------------------------


def test_generating_into_a_database_that_holds_tasks_is_refused_and_changes_nothing(engine):
    generated(engine, 300, seed=23)
    before, data = counts(engine), snapshot(engine)

    with pytest.raises(InvalidInput) as refusal, engine.context() as ctx:
        generate(ctx, Shape(tasks=300, seed=29), PASSWORD)
    assert str(refusal.value) == EMPTY
    assert counts(engine) == before
    assert snapshot(engine) == data


def test_a_generation_that_fails_midway_leaves_nothing_behind(engine):
    with engine.context() as ctx:  # an empty database but for one account, named as U07's head
        ctx.session.add(User(username="u07.head", full_name="Quản trị cũ", role="admin"))
    with pytest.raises(sa.exc.IntegrityError), engine.context() as ctx:
        generate(ctx, Shape(tasks=300), PASSWORD)
    assert counts(engine) == {name: 1 if name == "users" else 0 for name in COUNTED}


def test_nothing_is_generated_from_a_shape_with_no_tasks(engine):
    with pytest.raises(InvalidInput, match="--tasks: must be at least 1"), engine.context() as ctx:
        generate(ctx, Shape(tasks=0), PASSWORD)
    with pytest.raises(InvalidInput, match="--units: must be at least 2"), engine.context() as ctx:
        generate(ctx, Shape(tasks=10, units=1), PASSWORD)
    assert set(counts(engine).values()) == {0}


# --- the command line ------------------------------------------------------------------------

SUMMARY = re.compile(
    r"(?P<units>\d+) units, (?P<users>\d+) users, (?P<plans>\d+) plans?, (?P<tasks>[\d,]+) tasks "
    r"\((?P<states>[^)]*)\), (?P<due_items>[\d,]+) due items, (?P<reports>[\d,]+) reports, "
    r"(?P<events>[\d,]+) history rows in \d+\.\d s"
)


@pytest.fixture
def instance(
    tmp_path: Path, engine: Engine, settings: Settings
) -> Iterator[tuple[Path, list[str], Engine]]:
    """An instance folder, the options that point the command at an empty database, and an
    engine to look at it: on SQLite the instance's own file, which the command creates; on
    PostgreSQL the test database, emptied."""
    folder = tmp_path / "instance"
    folder.mkdir()
    if SERVER is not None:
        yield folder, ["--database-url", settings.database_url], engine
        return
    own = Settings(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'nhiemvu.db'}",
        rules_dir=PROJECT_ROOT / "rules",
    )
    looking = Engine(own, FixedClock.on(AS_OF))
    yield folder, [], looking
    looking.close()


def test_bench_generate_on_the_command_line(instance):
    folder, options, engine = instance
    command = ["--today", "2026-11-22", "bench", "generate", "--tasks", "300"]
    result = nhiemvu(folder, *options, *command, "--password", PASSWORD)
    summary, accounts = ok(result).splitlines()
    found = SUMMARY.fullmatch(summary)
    assert found, summary
    assert " 300 tasks (" in summary
    in_database = counts(engine)
    for name in COUNTED:
        assert int(found[name].replace(",", "")) == in_database[name], name
    assert (in_database["units"], in_database["users"], in_database["plans"]) == (62, 123, 1)
    states = dict(reversed(part.split(" ", 1)) for part in found["states"].split(", "))
    assert sum(int(n) for n in states.values()) == 300
    assert set(states) <= {"closed", "reported", "in_progress", "waiting"}
    assert accounts == (
        f"accounts: u01.head … u60.head, bench.office, bench.leader, bench.admin; "
        f"password {PASSWORD}"
    )
    assert result.stderr == "plan 1: 300 of 300 tasks written\n"  # progress, apart from output
    with engine.context() as ctx:
        assert sign_in(ctx, "u60.head", PASSWORD).user is not None

    again = nhiemvu(folder, *options, "bench", "generate", "--tasks", "300")
    assert refused(again) == f"error: {EMPTY}\n"
    assert counts(engine) == in_database


def test_bench_generate_prints_a_new_password_that_signs_in(instance):
    folder, options, engine = instance
    result = nhiemvu(folder, *options, "bench", "generate", "--tasks", "2100", "--units", "5")
    summary, accounts = ok(result).splitlines()
    assert summary.startswith("7 units, 13 users, 2 plans, 2,100 tasks (")
    assert result.stderr.splitlines() == [
        "plan 1: 2,000 of 2,100 tasks written",
        "plan 2: 2,100 of 2,100 tasks written",
    ]
    found = re.fullmatch(
        r"accounts: u01\.head … u05\.head, bench\.office, bench\.leader, bench\.admin; "
        r"password (\S{12,})",
        accounts,
    )
    assert found, accounts
    with engine.context() as ctx:
        assert sign_in(ctx, "u05.head", found[1]).user is not None


def test_bench_generate_refuses_a_wrong_shape_before_touching_the_database(instance):
    """Click's usage errors, exit code 2 and the option named (in process: no start-up cost)."""
    folder, options, engine = instance
    runner = CliRunner()
    for args, named in [
        (["--tasks", "0"], "--tasks"),
        ([], "--tasks"),
        (["--tasks", "10", "--units", "1"], "--units"),
        (["--tasks", "10", "--as-of", "22/11/2026"], "--as-of"),
    ]:
        command = ["--instance", str(folder), *options, "bench", "generate", *args]
        result = runner.invoke(cli, command)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        assert result.stderr.startswith("Usage: ") and named in result.stderr, result.stderr
    if SERVER is None:
        assert not (folder / "nhiemvu.db").exists()
    else:
        assert set(counts(engine).values()) == {0}
