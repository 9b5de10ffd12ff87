"""The unit's overview: grouping by urgency, days left or late, and a bounded number of queries."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tests.conftest import task_by_ref, user
from workflow import tasks as svc
from workflow.models import Unit
from workflow.unit_view import Group, UnitOverview, group_of, unit_overview

VPS_ROWS = [
    ["1", "Việc đã quá hạn", "Văn phòng Sở", "", "12/2025"],
    ["2", "Việc sắp đến hạn", "Văn phòng Sở", "", "27/11/2026"],
    ["3", "Việc chờ hướng dẫn", "Văn phòng Sở", "", "Sau khi có hướng dẫn của Trung ương"],
    ["4", "Việc thường xuyên", "Văn phòng Sở", "", "Thường xuyên"],
    ["5", "Việc đã hủy", "Văn phòng Sở", "", "6/2027"],
    ["6", "Việc chưa rõ thời hạn", "Văn phòng Sở", "", "Tùy tình hình thực tế"],
    ["7", "Việc phối hợp", "Phòng Quản lý KH&CN", "Văn phòng Sở", "6/2027"],
    ["8", "Việc của đơn vị khác", "Phòng Quản lý KH&CN", "", "6/2027"],
]


def unit_id(ctx, code: str) -> int:
    return ctx.session.scalar(sa.select(Unit.id).where(Unit.code == code))


def refs(overview: UnitOverview) -> dict[str, list[str]]:
    found = {group.value: [row.ref for row in rows] for group, rows in overview.groups.items()}
    found["cooperating"] = [row.ref for row in overview.cooperating]
    return found


def make_vps_plan(make_plan, engine) -> None:
    make_plan(VPS_ROWS)
    with engine.context() as ctx:
        svc.cancel_task(
            ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "5"), "Không còn phù hợp"
        )


def test_led_tasks_are_grouped_by_urgency_and_cooperating_ones_listed_apart(make_plan, engine):
    make_vps_plan(make_plan, engine)
    with engine.context(write=False) as ctx:
        overview = unit_overview(ctx.session, unit_id(ctx, "VPS"), ctx.today())
    assert overview.today == date(2026, 11, 22)
    assert refs(overview) == {
        "overdue": ["1"],
        "soon": ["2"],
        "waiting": ["3"],
        "ongoing": ["4", "6"],
        "done": ["5"],
        "cooperating": ["7"],
    }
    late = overview.groups[Group.OVERDUE][0]
    assert (late.next_kind, late.next_due) == ("deadline", date(2025, 12, 31))
    assert late.days_left == -326 and late.days_late == 326
    soon = overview.groups[Group.SOON][0]
    assert (soon.next_due, soon.days_left, soon.days_late) == (date(2026, 11, 27), 5, 0)
    waiting = overview.groups[Group.WAITING][0]
    assert waiting.next_due is None and waiting.days_left is None
    unknown = overview.groups[Group.ONGOING][1]
    assert unknown.needs_review and not overview.groups[Group.ONGOING][0].needs_review
    assert overview.cooperating[0].lead_units == ["Phòng Quản lý Khoa học và Công nghệ"]
    assert overview.groups[Group.OVERDUE][0].lead_units == ["Văn phòng Sở"]
    assert overview.groups[Group.OVERDUE][0].plan_code == "test-plan"


def test_moving_today_moves_a_task_from_soon_to_overdue(make_plan, engine, clock):
    make_vps_plan(make_plan, engine)
    clock.set(date(2026, 12, 1))
    with engine.context(write=False) as ctx:
        overview = unit_overview(ctx.session, unit_id(ctx, "VPS"), ctx.today())
    assert refs(overview)["overdue"] == ["1", "2"]  # the oldest first
    assert [r.days_late for r in overview.groups[Group.OVERDUE]] == [335, 4]


def test_a_deadline_day_itself_is_not_late_and_seven_days_is_soon() -> None:
    today = date(2026, 11, 22)
    assert group_of("in_progress", today, today) is Group.SOON
    assert group_of("reported", date(2026, 11, 29), today) is Group.SOON
    assert group_of("in_progress", date(2026, 11, 30), today) is Group.ONGOING
    assert group_of("in_progress", date(2026, 11, 21), today) is Group.OVERDUE
    assert group_of("closed", date(2026, 11, 21), today) is Group.DONE
    assert group_of("waiting", None, today) is Group.WAITING


def test_a_unit_with_nothing_or_no_unit_gets_empty_groups(make_plan, engine):
    make_vps_plan(make_plan, engine)
    with engine.context(write=False) as ctx:
        assert unit_overview(ctx.session, None, ctx.today()).led_count == 0
        empty = unit_overview(ctx.session, unit_id(ctx, "STP"), ctx.today())
        assert empty.led_count == 0 and empty.cooperating == []


def _count_queries(engine, unit_code: str) -> tuple[int, int]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with engine.context(write=False) as ctx:
        unit = unit_id(ctx, unit_code)
        sa.event.listen(engine.database.engine, "before_cursor_execute", count)
        try:
            overview = unit_overview(ctx.session, unit, ctx.today())  # rows are plain data
        finally:
            sa.event.remove(engine.database.engine, "before_cursor_execute", count)
    return len(statements), overview.led_count + len(overview.cooperating)


def test_the_overview_runs_the_same_number_of_queries_for_3_or_30_tasks(make_plan, engine):
    timings = ["12/2025", "27/11/2026", "Thường xuyên", "Sau khi có hướng dẫn của Trung ương"]
    leads = ["Văn phòng Sở", "Văn phòng Sở, Phòng Quản lý KH&CN"]

    def rows(n: int) -> list[list[str]]:
        return [
            [str(i + 1), f"Nhiệm vụ số {i + 1}", leads[i % 2], "Phòng Quản lý TĐC", timings[i % 4]]
            for i in range(n)
        ]

    make_plan(rows(3), code="small", number="1/KH-SKHCN")
    few, shown_few = _count_queries(engine, "VPS")
    make_plan(rows(27), code="large", number="2/KH-SKHCN")
    many, shown_many = _count_queries(engine, "VPS")
    assert (shown_few, shown_many) == (3, 30)
    assert few == many <= 4
