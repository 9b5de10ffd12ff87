"""The queries behind the Office screen and the overdue board: counts, waiting days, and a fixed
number of SQL statements whatever the number of rows."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tests.conftest import sign_in, task_by_ref, user
from workflow import board
from workflow import tasks as svc
from workflow.classify import DueClass, due_class, live_as_of
from workflow.models import DueItem, Plan, Task
from workflow.queries import DEADLINE_KINDS, summary

TODAY = date(2026, 11, 22)


def rows(n: int) -> list[list[str]]:
    """n tasks of each kind: overdue, not yet due (another unit), waiting for guidance."""
    result = []
    for i in range(n):
        result += [
            [f"{3 * i + 1}", f"Việc quá hạn {i}", "Văn phòng Sở", "", "6/2026"],
            [f"{3 * i + 2}", f"Việc chưa đến hạn {i}", "Phòng Quản lý KH&CN", "", "3/2027"],
            [
                f"{3 * i + 3}",
                f"Chờ hướng dẫn {i}",
                "Văn phòng Sở",
                "",
                "Sau khi có hướng dẫn của Trung ương",
            ],
        ]
    return result


@pytest.fixture
def plans(make_plan, engine, clock):
    clock.set(date(2026, 9, 1))
    make_plan(rows(2), regime="monthly:14", issued_on="2026-08-20")
    make_plan(
        rows(1),
        code="other-plan",
        number="2/KH-SKHCN",
        regime="quarterly:14",
        issued_on="2026-08-25",
    )
    clock.set(TODAY)
    with engine.context() as ctx:
        svc.submit_report(
            ctx,
            user(ctx, "vps.head"),
            task_by_ref(ctx, "test-plan", "1"),
            text="Xong",
            progress=100,
        )
    return engine


def direct_counts(session, as_of: date, group) -> dict:
    """Class of every due item, counted in Python: what the SQL aggregation must agree with."""
    counted: dict = {}
    query = (
        sa.select(group, due_class(as_of))
        .select_from(DueItem)
        .join(Task, DueItem.task_id == Task.id)
        .join(Plan, Task.plan_id == Plan.id)
        .where(DueItem.kind.in_(DEADLINE_KINDS), live_as_of(as_of))
    )
    for key, klass in session.execute(query):
        counted.setdefault(key, Counter())[DueClass(klass)] += 1
    return counted


@pytest.mark.parametrize("as_of", [date(2026, 6, 1), date(2026, 11, 22), date(2027, 5, 1)])
def test_per_plan_and_per_unit_counts_agree_with_direct_counts_and_summary(plans, as_of):
    with plans.context() as ctx:
        s = ctx.session
        scope = board.organisation_unit_ids(s, user(ctx, "vps.office"))
        by_plan = {c.code: c for c in board.per_plan(s, as_of, scope)}
        direct = direct_counts(s, as_of, Plan.code)
        assert set(by_plan) == set(direct)
        for code, counts in by_plan.items():
            assert counts.classes == {c: direct[code][c] for c in DueClass}
        by_unit = {c.name: c.classes for c in board.per_unit(s, as_of, scope)}
        assert by_unit == summary(s, as_of)
        # filtered by plan, the same as summary's plan filter
        plan_id = s.scalar(sa.select(Plan.id).where(Plan.code == "other-plan"))
        filtered = {c.name: c.classes for c in board.per_unit(s, as_of, scope, plan_id=plan_id)}
        assert filtered == summary(s, as_of, plan_id=plan_id)


def test_overdue_statistics_per_unit(plans):
    as_of = date(2026, 11, 22)
    with plans.context() as ctx:
        s = ctx.session
        counts = {c.name: c for c in board.per_unit(s, as_of, None)}
        vps = counts["Văn phòng Sở"]
        # three overdue deadlines of 30/6/2026 (one was completed late today, not overdue)
        assert vps.overdue == 2 and vps.completed_late == 1
        assert vps.oldest_overdue == date(2026, 6, 30)
        assert vps.days_late == 2 * (as_of - date(2026, 6, 30)).days
        assert vps.on_time_rate == 0
        qlkhcn = counts["Phòng Quản lý Khoa học và Công nghệ"]
        assert (qlkhcn.overdue, qlkhcn.not_yet_due, qlkhcn.days_late) == (0, 3, 0)
        assert qlkhcn.oldest_overdue is None and qlkhcn.on_time_rate is None
        reports = {
            c.name: c for c in board.per_unit(s, as_of, None, kinds=board.KIND_FILTERS["reports"])
        }
        assert reports["Văn phòng Sở"].overdue > 0


def test_the_scope_keeps_other_organisations_out(plans):
    with plans.context() as ctx:
        s = ctx.session
        ward = board.organisation_unit_ids(s, user(ctx, "vinhtuy.office"))
        lai_chau = board.organisation_unit_ids(s, user(ctx, "skhcn.director"))
        assert board.organisation_unit_ids(s, user(ctx, "admin")) is None
        assert set(ward).isdisjoint(lai_chau)
        assert board.per_unit(s, TODAY, ward) == [] and board.per_plan(s, TODAY, ward) == []
        assert board.acceptance_queue(s, ward) == [] and board.waiting_tasks(s, ward, TODAY) == []
        assert board.missing_reports(s, ward, TODAY) == []
        assert len(board.acceptance_queue(s, lai_chau)) == 1


def test_waiting_days_count_from_the_start_or_else_the_plan_date():
    started = datetime(2026, 8, 31, 18, 0, tzinfo=UTC)  # 1 Sep 2026 01:00 in Vietnam
    assert board.waiting_days(started, date(2026, 8, 1), TODAY) == (date(2026, 9, 1), 82)
    assert board.waiting_days(None, date(2026, 8, 20), TODAY) == (date(2026, 8, 20), 94)
    assert board.waiting_days(None, None, TODAY) == (None, None)
    assert board.waiting_days(None, date(2026, 12, 1), TODAY) == (date(2026, 12, 1), 0)


def test_waiting_tasks_read_their_start_from_history(plans):
    with plans.context() as ctx:
        waiting = board.waiting_tasks(ctx.session, None, TODAY)
        assert len(waiting) == 3
        assert {(w.since, w.days_waited, w.trigger) for w in waiting} == {
            (date(2026, 9, 1), 82, "Trung ương")
        }


def test_missing_reports_by_unit(plans):
    with plans.context() as ctx:
        missing = {m.unit: m for m in board.missing_reports(ctx.session, None, TODAY)}
        # monthly (Sep, Oct, Nov) for test-plan's 4 started tasks, quarterly Q3 for the other 2
        vps, qlkhcn = missing["Văn phòng Sở"], missing["Phòng Quản lý Khoa học và Công nghệ"]
        assert vps.oldest == qlkhcn.oldest == date(2026, 9, 14)
        assert vps.count == 2 * 3 - 1 + 1  # one of its reports arrived
        assert qlkhcn.count == 2 * 3 + 1


# --- a bounded number of SQL statements ------------------------------------------------------------


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine.database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine.database.engine, "before_cursor_execute", count)


def _load(engine, code: str, number: str, n: int, make_plan, clock) -> None:
    """A plan of 3n tasks, every started task reported and asked an extension of."""
    clock.set(date(2026, 9, 1))
    make_plan(rows(n), code=code, number=number, regime="monthly:14", issued_on="2026-08-20")
    clock.set(TODAY)
    with engine.context() as ctx:
        for task in ctx.session.scalars(
            sa.select(Task).join(Plan).where(Plan.code == code, Task.status == "in_progress")
        ):
            head = user(ctx, "vps.head" if task.name.startswith("Việc quá hạn") else "qlkhcn.head")
            svc.request_extension(
                ctx,
                head,
                task,
                reason="Chờ",
                period_key="deadline",
                proposed_date=date(2027, 12, 31),
            )
            svc.submit_report(ctx, head, task, text="Tiến độ", progress=50)


def _statements(app, engine, unit_id: int) -> dict[str, int]:
    client = app.test_client()
    sign_in(client, "vps.office")
    result = {}
    for path in (
        "/office",
        "/board?as_of=2026-11-22",
        "/board?as_of=2026-11-22&kind=all",
        "/board.csv?as_of=2026-11-22",
        f"/board/unit/{unit_id}?kind=all",
    ):
        with counting(engine) as statements:
            assert client.get(path).status_code == 200, path
        result[path] = len(statements)
    return result


def test_the_office_screen_and_the_board_run_a_fixed_number_of_queries(
    app, make_plan, engine, clock
):
    _load(engine, "small-plan", "1/KH-SKHCN", 2, make_plan, clock)
    with engine.context() as ctx:
        unit_id = user(ctx, "vps.head").unit_id
    small = _statements(app, engine, unit_id)
    _load(engine, "large-plan", "2/KH-SKHCN", 20, make_plan, clock)
    with engine.context() as ctx:
        assert len(board.acceptance_queue(ctx.session, None)) == 44
        assert len(board.waiting_tasks(ctx.session, None, TODAY)) == 22
    large = _statements(app, engine, unit_id)
    assert small == large
    # the Office screen's: its four lists, the e-mails not sent, the header's unread count
    assert max(small.values()) <= 17
