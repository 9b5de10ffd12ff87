"""Data is sacred: every change is in the history, written in the same transaction; history is
never rewritten; two people changing one task never silently overwrite each other."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tests.conftest import task_by_ref, user
from workflow import tasks as svc
from workflow.errors import Conflict
from workflow.history import HistoryViolation
from workflow.models import Report, TaskEvent

ROWS = [["1", "Xây dựng kế hoạch", "Văn phòng Sở", "", "6/2027"]]


def count(ctx, model, *where) -> int:
    return ctx.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_every_service_change_comes_with_its_history_row(make_plan, engine):
    make_plan(ROWS)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        svc.submit_report(ctx, user(ctx, "vps.head"), task, text="Đang thực hiện", progress=30)
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        last = ctx.session.scalars(
            sa.select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id.desc())
        ).first()
        assert (last.action, last.from_status, last.to_status) == (
            "report",
            "in_progress",
            "reported",
        )
        assert last.actor.username == "vps.head"
        assert last.note == "Đang thực hiện"
        assert last.changes["progress"] == 30
        assert last.at.tzinfo is not None


def test_a_failure_after_the_change_rolls_back_change_and_history_together(make_plan, engine):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        before = count(ctx, TaskEvent), count(ctx, Report)
    with pytest.raises(RuntimeError, match="power cut"), engine.context() as ctx:
        svc.submit_report(
            ctx, user(ctx, "vps.head"), task_by_ref(ctx, "test-plan", "1"), text="X", progress=10
        )
        ctx.session.flush()
        raise RuntimeError("power cut")
    with engine.context(write=False) as ctx:
        assert (count(ctx, TaskEvent), count(ctx, Report)) == before
        assert task_by_ref(ctx, "test-plan", "1").status == "in_progress"


def test_changing_a_task_without_history_is_refused(make_plan, engine):
    make_plan(ROWS)
    with pytest.raises(HistoryViolation, match="without a history entry"), engine.context() as ctx:
        task_by_ref(ctx, "test-plan", "1").name = "Tên khác"
    with engine.context(write=False) as ctx:
        assert task_by_ref(ctx, "test-plan", "1").name == "Xây dựng kế hoạch"


def test_history_rows_cannot_be_edited_or_deleted(make_plan, engine):
    make_plan(ROWS)
    with pytest.raises(HistoryViolation, match="append-only"), engine.context() as ctx:
        ctx.session.scalars(sa.select(TaskEvent)).first().note = "sửa lịch sử"
    with pytest.raises(HistoryViolation, match="append-only"), engine.context() as ctx:
        ctx.session.delete(ctx.session.scalars(sa.select(TaskEvent)).first())


def test_a_stale_form_is_refused_instead_of_overwriting(make_plan, engine):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        seen = task_by_ref(ctx, "test-plan", "1").version
    with engine.context() as ctx:
        svc.submit_report(
            ctx,
            user(ctx, "vps.head"),
            task_by_ref(ctx, "test-plan", "1"),
            text="A",
            progress=20,
            expected_version=seen,
        )
    with pytest.raises(Conflict, match="changed by someone else"), engine.context() as ctx:
        svc.submit_report(
            ctx,
            user(ctx, "vps.office"),
            task_by_ref(ctx, "test-plan", "1"),
            text="B",
            progress=90,
            expected_version=seen,
        )
    with engine.context(write=False) as ctx:
        assert [r.text for r in ctx.session.scalars(sa.select(Report))] == ["A"]


def _in_threads(*targets) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None] * len(targets)

    def run(i: int) -> None:
        try:
            targets[i]()
        except BaseException as exc:  # the outcome is what the test inspects
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_people_submitting_the_same_form_at_once_one_wins(make_plan, engine):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        seen = task_by_ref(ctx, "test-plan", "1").version
    barrier = threading.Barrier(2)

    def submit(username: str, text: str):
        def go() -> None:
            barrier.wait(timeout=10)
            with engine.context() as ctx:
                task = task_by_ref(ctx, "test-plan", "1")
                svc.submit_report(
                    ctx, user(ctx, username), task, text=text, progress=50, expected_version=seen
                )

        return go

    outcomes = _in_threads(submit("vps.head", "A"), submit("vps.office", "B"))
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
    with engine.context(write=False) as ctx:
        assert count(ctx, Report) == 1
        assert count(ctx, TaskEvent, TaskEvent.action == "report") == 1


def test_interleaved_writers_never_lose_an_update(make_plan, engine, migrated):
    """Writer A changes the task and holds its transaction open while B reads and writes.

    PostgreSQL lets B read the old version; B's write then collides on the version column and
    fails with Conflict. SQLite makes B wait for A (BEGIN IMMEDIATE), so B builds on A's
    change. Either way both changes, or exactly one and a Conflict, are in the database.
    """
    make_plan(ROWS)
    a_flushed, b_read = threading.Event(), threading.Event()

    def writer_a() -> None:
        with engine.context() as ctx:
            svc.submit_report(
                ctx,
                user(ctx, "vps.head"),
                task_by_ref(ctx, "test-plan", "1"),
                text="A",
                progress=40,
            )
            ctx.session.flush()
            a_flushed.set()
            b_read.wait(timeout=2)  # on SQLite B cannot read until we commit: go on

    def writer_b() -> None:
        a_flushed.wait(timeout=10)
        with engine.context() as ctx:
            task = task_by_ref(ctx, "test-plan", "1")
            b_read.set()
            svc.submit_report(ctx, user(ctx, "vps.office"), task, text="B", progress=60)

    outcome_a, outcome_b = _in_threads(writer_a, writer_b)
    assert outcome_a is None
    with engine.context(write=False) as ctx:
        reports = sorted(r.text for r in ctx.session.scalars(sa.select(Report)))
        report_events = count(ctx, TaskEvent, TaskEvent.action == "report")
    if migrated.is_sqlite:
        assert outcome_b is None and reports == ["A", "B"] and report_events == 2
    else:
        assert isinstance(outcome_b, Conflict) and reports == ["A"] and report_events == 1
