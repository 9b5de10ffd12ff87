"""The unit's overview: grouping by urgency in SQL, counts, pages in order, days left or late,
and a bounded number of queries."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tests.conftest import task_by_ref, user
from workflow import tasks as svc
from workflow.context import Engine
from workflow.models import Unit
from workflow.unit_view import GROUP_ORDER, Group, group_counts, group_page, unit_overview

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


def everything(ctx, unit: int | None, per_page: int = 1000) -> dict[Group, list]:
    """Every row of every group, page by page."""
    found: dict[Group, list] = {}
    for group in GROUP_ORDER:
        found[group], page = [], 1
        while True:
            shown = group_page(ctx.session, unit, group, ctx.today(), page, per_page)
            found[group] += shown.items
            if not shown.has_next:
                break
            page += 1
    return found


def refs(ctx, unit: int | None) -> dict[str, list[str]]:
    return {group.value: [row.ref for row in rows] for group, rows in everything(ctx, unit).items()}


def make_vps_plan(make_plan, engine) -> None:
    make_plan(VPS_ROWS)
    with engine.context() as ctx:
        svc.cancel_task(
            ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "5"), "Không còn phù hợp"
        )


def test_led_tasks_are_grouped_by_urgency_and_cooperating_ones_listed_apart(make_plan, engine):
    make_vps_plan(make_plan, engine)
    with engine.context(write=False) as ctx:
        vps = unit_id(ctx, "VPS")
        assert refs(ctx, vps) == {
            "overdue": ["1"],
            "soon": ["2"],
            "waiting": ["3"],
            "ongoing": ["4", "6"],
            "done": ["5"],
            "cooperating": ["7"],
        }
        counts = group_counts(ctx.session, vps, ctx.today())
        groups = everything(ctx, vps)
        overview = unit_overview(ctx.session, vps, ctx.today())
    assert counts == {g: len(rows) for g, rows in groups.items()} == overview.counts
    assert overview.today == date(2026, 11, 22) and overview.led_count == 6
    assert overview.first == {Group.OVERDUE: groups["overdue"], Group.SOON: groups["soon"]}
    late = groups[Group.OVERDUE][0]
    assert (late.next_kind, late.next_due) == ("deadline", date(2025, 12, 31))
    assert late.days_left == -326 and late.days_late == 326
    soon = groups[Group.SOON][0]
    assert (soon.next_due, soon.days_left, soon.days_late) == (date(2026, 11, 27), 5, 0)
    waiting = groups[Group.WAITING][0]
    assert waiting.next_due is None and waiting.days_left is None
    unknown = groups[Group.ONGOING][1]
    assert unknown.needs_review and not groups[Group.ONGOING][0].needs_review
    assert groups[Group.COOPERATING][0].lead_units == ["Phòng Quản lý Khoa học và Công nghệ"]
    assert late.lead_units == ["Văn phòng Sở"] and late.plan_code == "test-plan"


def test_moving_today_moves_a_task_from_soon_to_overdue(make_plan, engine, clock):
    make_vps_plan(make_plan, engine)
    clock.set(date(2026, 12, 1))
    with engine.context(write=False) as ctx:
        overdue = everything(ctx, unit_id(ctx, "VPS"))[Group.OVERDUE]
    assert [r.ref for r in overdue] == ["1", "2"]  # the oldest first
    assert [r.days_late for r in overdue] == [335, 4]


def test_a_deadline_day_itself_is_not_late_and_seven_days_ahead_is_soon(make_plan, engine, clock):
    make_plan([["1", "Hạn ngày 27/11", "Văn phòng Sở", "", "27/11/2026"]])  # a Friday
    expected = [
        (date(2026, 11, 19), Group.ONGOING),  # eight days ahead
        (date(2026, 11, 20), Group.SOON),  # seven days ahead
        (date(2026, 11, 27), Group.SOON),  # the day itself
        (date(2026, 11, 28), Group.OVERDUE),
    ]
    for today, group in expected:
        clock.set(today)
        with engine.context(write=False) as ctx:
            counts = group_counts(ctx.session, unit_id(ctx, "VPS"), ctx.today())
        assert counts == {g: int(g is group) for g in GROUP_ORDER}, today


def test_groups_list_by_next_due_then_plan_and_number_done_and_cooperating_by_plan(
    make_plan, engine
):
    due = ["6/2026", "12/2025", "27/11/2026", "Thường xuyên", "12/2025"]
    rows = [[str(i + 1), f"Nhiệm vụ {i + 1}", "Văn phòng Sở", "", t] for i, t in enumerate(due)]
    rows += [["10", "Nhiệm vụ 10", "Văn phòng Sở", "", "12/2025"]]
    rows += [["11", "Phối hợp 11", "Phòng Quản lý KH&CN", "Văn phòng Sở", "6/2027"]]
    make_plan(rows, code="b-plan", number="2/KH-SKHCN")
    make_plan(rows, code="a-plan", number="1/KH-SKHCN")
    with engine.context() as ctx:
        for code in ("a-plan", "b-plan"):
            svc.cancel_task(ctx, user(ctx, "vps.office"), task_by_ref(ctx, code, "4"), "Thôi")
    with engine.context(write=False) as ctx:
        groups = everything(ctx, unit_id(ctx, "VPS"))

    def listed(group: Group) -> list[tuple]:
        return [(r.next_due and r.next_due.isoformat(), r.plan_code, r.ref) for r in groups[group]]

    assert listed(Group.OVERDUE) == [
        ("2025-12-31", "a-plan", "10"),  # a number is text: "10" before "2", as ever
        ("2025-12-31", "a-plan", "2"),
        ("2025-12-31", "a-plan", "5"),
        ("2025-12-31", "b-plan", "10"),
        ("2025-12-31", "b-plan", "2"),
        ("2025-12-31", "b-plan", "5"),
        ("2026-06-30", "a-plan", "1"),
        ("2026-06-30", "b-plan", "1"),
    ]
    assert [(r.plan_code, r.ref) for r in groups[Group.SOON]] == [("a-plan", "3"), ("b-plan", "3")]
    assert [(r.plan_code, r.ref) for r in groups[Group.DONE]] == [("a-plan", "4"), ("b-plan", "4")]
    cooperating = [(r.plan_code, r.ref) for r in groups[Group.COOPERATING]]
    assert cooperating == [("a-plan", "11"), ("b-plan", "11")]


def test_paging_through_a_group_shows_each_task_once_in_order(make_plan, engine):
    rows = [[str(i + 1), f"Nhiệm vụ {i + 1}", "Văn phòng Sở", "", "12/2025"] for i in range(7)]
    make_plan(rows)
    with engine.context(write=False) as ctx:
        vps, today = unit_id(ctx, "VPS"), ctx.today()
        whole = [r.task_id for r in group_page(ctx.session, vps, Group.OVERDUE, today).items]
        pages = [group_page(ctx.session, vps, Group.OVERDUE, today, n, 3) for n in (1, 2, 3)]
        beyond = group_page(ctx.session, vps, Group.OVERDUE, today, 9, 3)
        counted = group_page(ctx.session, vps, Group.OVERDUE, today, 2, 3, total=7)
        empty = group_page(ctx.session, vps, Group.DONE, today, 4, 3)
    assert len(whole) == 7
    assert [r.task_id for p in pages for r in p.items] == whole
    assert [(p.page, p.pages, p.total, len(p.items)) for p in pages] == [
        (1, 3, 7, 3),
        (2, 3, 7, 3),
        (3, 3, 7, 1),
    ]
    assert (beyond.page, [r.task_id for r in beyond.items]) == (3, whole[6:])  # the last page
    assert counted.items == pages[1].items
    assert (empty.page, empty.pages, empty.total, empty.items) == (1, 1, 0, [])


def test_another_units_tasks_never_appear(make_plan, engine):
    make_vps_plan(make_plan, engine)
    with engine.context(write=False) as ctx:
        mine = everything(ctx, unit_id(ctx, "VPS"))
        other = everything(ctx, unit_id(ctx, "QLKHCN"))
    assert "8" not in {row.ref for rows in mine.values() for row in rows}
    assert {g: [r.ref for r in rows] for g, rows in other.items() if rows} == {
        "ongoing": ["7", "8"]
    }


def test_a_unit_with_nothing_or_no_unit_gets_empty_groups(make_plan, engine):
    make_vps_plan(make_plan, engine)
    with engine.context(write=False) as ctx:
        nobody = unit_overview(ctx.session, None, ctx.today())
        assert nobody.led_count == 0 and nobody.first == {Group.OVERDUE: [], Group.SOON: []}
        assert group_page(ctx.session, None, Group.OVERDUE, ctx.today()).total == 0
        empty = unit_overview(ctx.session, unit_id(ctx, "STP"), ctx.today())
        assert empty.led_count == 0 and empty.counts[Group.COOPERATING] == 0


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
    return len(statements), sum(overview.counts.values())


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
    # counts; per urgent group: its rows, their next items, their leads; each behind the stamp
    assert few == many <= 10
    again, _shown = _count_queries(engine, "VPS")
    assert again == 3  # nothing changed: only the stamp is read, once per kept result


def test_a_change_through_other_connections_moves_a_task_at_once(make_plan, engine):
    """The lists are kept per process under the stamp: a change committed elsewhere (another
    engine's connections, as another process has) is on the next read, never a stale list."""
    make_vps_plan(make_plan, engine)
    with engine.context(write=False) as ctx:
        vps = unit_id(ctx, "VPS")
        assert unit_overview(ctx.session, vps, ctx.today()).counts[Group.OVERDUE] == 1
        assert refs(ctx, vps)["overdue"] == ["1"]
    elsewhere = Engine(engine.settings, engine.clock)
    try:
        with elsewhere.context() as ctx:
            task = task_by_ref(ctx, "test-plan", "1")
            svc.change_timing(ctx, user(ctx, "vps.office"), task, "15/01/2027")
    finally:
        elsewhere.close()
    with engine.context(write=False) as ctx:
        assert unit_overview(ctx.session, vps, ctx.today()).counts[Group.OVERDUE] == 0
        moved = refs(ctx, vps)
    assert moved["overdue"] == [] and moved["ongoing"] == ["1", "4", "6"]
