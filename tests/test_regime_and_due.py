"""Reporting regimes, the due items the engine derives from a task, and the four classes of the
monitoring report (on time, late, not yet due, overdue) as of any date.

The clock stands at 2026-11-22 unless a test moves it; the horizon is 15 months, so due items
are generated up to 2028-02-22.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import PlanMaker, task_by_ref, user
from workflow.classify import DueClass, due_class
from workflow.context import Context, Engine
from workflow.due import regenerate
from workflow.errors import InvalidInput
from workflow.models import DueItem, TaskEvent
from workflow.queries import overdue, summary
from workflow.regime import DEFAULT_REGIME, ReportingRegime, describe_period, vietnamese_period
from workflow.tasks import change_timing, submit_report
from workflow.timing import Frequency

PLAN = "test-plan"
VPS = "Văn phòng Sở"


def _row(timing: str, ref: str = "1", lead: str = VPS) -> list[str]:
    return [ref, f"Nhiệm vụ {ref} ({timing})", lead, "", timing]


def _items(ctx: Context, ref: str = "1", kind: str | None = None) -> list[DueItem]:
    task = task_by_ref(ctx, PLAN, ref)
    query = sa.select(DueItem).where(DueItem.task_id == task.id)
    if kind is not None:
        query = query.where(DueItem.kind == kind)
    return list(ctx.session.scalars(query.order_by(DueItem.nominal_date, DueItem.id)))


def _deadline(ctx: Context, ref: str = "1") -> DueItem:
    (item,) = _items(ctx, ref, "deadline")
    return item


# === Reporting regimes =============================================================================


def test_default_regime_parses_to_the_four_national_periods() -> None:
    regime = ReportingRegime.parse(DEFAULT_REGIME)
    assert [(e.frequency, e.day, e.month) for e in regime.entries] == [
        (Frequency.MONTHLY, 14, None),
        (Frequency.QUARTERLY, 14, None),
        (Frequency.SEMIANNUAL, 14, None),
        (Frequency.ANNUAL, 14, 12),
    ]
    assert str(regime) == DEFAULT_REGIME
    # A plan that states no regime gets the national default.
    assert ReportingRegime.parse("") == regime
    assert ReportingRegime.parse(None) == regime
    # Order and spacing do not matter.
    assert ReportingRegime.parse("annual:14/12;monthly:14 ; semiannual:14;quarterly:14") == regime


def test_fixed_date_annual_regime() -> None:
    regime = ReportingRegime.parse("annual:12/04")
    assert [(e.frequency, e.day, e.month) for e in regime.entries] == [(Frequency.ANNUAL, 12, 4)]
    assert str(regime) == "annual:12/04"
    periods = regime.periods(date(2026, 1, 1), date(2027, 12, 31))
    assert [(p.nominal_date, p.key) for p in periods] == [
        (date(2026, 4, 12), "2026"),
        (date(2027, 4, 12), "2027"),
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("monthly:31", "monthly:31"),
        ("annual:29/02", "annual:29/02"),
        ("weekly:3", "weekly:3"),
        ("monthly:14; weekly:3", "weekly:3"),
        ("annual:14", "annual:14"),
        ("annual:31/04", "annual:31/04"),
        ("quarterly:0", "quarterly:0"),
        ("monthly:14; monthly:15", "monthly"),
        ("annual:12/04; annual:15/04", "annual"),
    ],
)
def test_regime_errors_name_the_entry(text: str, named: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        ReportingRegime.parse(text)
    assert named in str(raised.value)


def test_duplicated_frequency_is_refused_as_such() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        ReportingRegime.parse("monthly:14; quarterly:14; monthly:20")


def test_default_regime_yields_one_report_a_day_widest_period_winning() -> None:
    periods = ReportingRegime.parse(DEFAULT_REGIME).periods(date(2026, 1, 1), date(2026, 12, 31))
    assert [p.nominal_date for p in periods] == [date(2026, m, 14) for m in range(1, 13)]
    assert [p.key for p in periods] == [
        "2026-01",
        "2026-02",
        "2026-Q1",
        "2026-04",
        "2026-05",
        "2026-H1",  # 14 June: the half-year report, not also June's and the second quarter's
        "2026-07",
        "2026-08",
        "2026-Q3",
        "2026-10",
        "2026-11",
        "2026",  # 14 December: the annual report only
    ]
    by_key = {p.key: p.frequency for p in periods}
    assert by_key["2026-11"] is Frequency.MONTHLY
    assert by_key["2026-Q1"] is Frequency.QUARTERLY
    assert by_key["2026-H1"] is Frequency.SEMIANNUAL
    assert by_key["2026"] is Frequency.ANNUAL


def test_periods_are_inclusive_of_both_ends() -> None:
    regime = ReportingRegime.parse(DEFAULT_REGIME)
    assert [p.key for p in regime.periods(date(2026, 6, 14), date(2026, 6, 14))] == ["2026-H1"]
    assert [p.key for p in regime.periods(date(2026, 12, 14), date(2026, 12, 14))] == ["2026"]
    assert regime.periods(date(2026, 6, 15), date(2026, 7, 13)) == []
    keys = [p.key for p in regime.periods(date(2026, 11, 22), date(2027, 3, 14))]
    assert keys == ["2026", "2027-01", "2027-02", "2027-Q1"]


def test_distinct_days_are_all_kept() -> None:
    regime = ReportingRegime.parse("monthly:10; quarterly:20")
    keys = [(p.nominal_date, p.key) for p in regime.periods(date(2026, 3, 1), date(2026, 3, 31))]
    assert keys == [(date(2026, 3, 10), "2026-03"), (date(2026, 3, 20), "2026-Q1")]


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026-11", "tháng 11/2026"),
        ("2026-01", "tháng 1/2026"),
        ("2026-Q1", "quý I/2026"),
        ("2026-Q4", "quý IV/2026"),
        ("2026-H1", "6 tháng đầu năm 2026"),
        ("2026-H2", "6 tháng cuối năm 2026"),
        ("2026", "năm 2026"),
    ],
)
def test_vietnamese_period(key: str, label: str) -> None:
    assert vietnamese_period(key) == label


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026-11", "November 2026"),
        ("2026-01", "January 2026"),
        ("2026-Q1", "Q1 2026"),
        ("2026-Q4", "Q4 2026"),
        ("2026-H1", "first half of 2026"),
        ("2026-H2", "second half of 2026"),
        ("2026", "2026"),
    ],
)
def test_describe_period_is_a_message_in_english_by_default(key: str, label: str) -> None:
    assert str(describe_period(key)) == label


# === Due items from a task's timing ================================================================


def test_fixed_task_gets_one_deadline_at_its_effective_date(
    engine: Engine, make_plan: PlanMaker
) -> None:
    make_plan([_row("Quý II/2027", "1"), _row("1/2026", "2")])
    with engine.context() as ctx:
        on_a_weekday = _deadline(ctx, "1")
        assert on_a_weekday.period_key == "deadline"
        assert on_a_weekday.nominal_date == date(2027, 6, 30)
        assert on_a_weekday.due_date == on_a_weekday.original_due_date == date(2027, 6, 30)
        assert on_a_weekday.status == "open"

        on_a_saturday = _deadline(ctx, "2")  # 31/1/2026 is a Saturday
        assert on_a_saturday.nominal_date == date(2026, 1, 31)
        assert on_a_saturday.due_date == on_a_saturday.original_due_date == date(2026, 2, 2)
        for ref in ("1", "2"):
            assert _items(ctx, ref, "occurrence") == []


def test_ongoing_task_gets_only_reports_from_its_start_to_the_horizon(
    engine: Engine, make_plan: PlanMaker
) -> None:
    make_plan([_row("Thường xuyên")])
    with engine.context() as ctx:
        items = _items(ctx)
        assert {i.kind for i in items} == {"report"}
        assert [i.period_key for i in items] == [
            "2026",
            *[f"2027-{m:02d}" for m in (1, 2)],
            "2027-Q1",
            *[f"2027-{m:02d}" for m in (4, 5)],
            "2027-H1",
            *[f"2027-{m:02d}" for m in (7, 8)],
            "2027-Q3",
            *[f"2027-{m:02d}" for m in (10, 11)],
            "2027",
            "2028-01",
            "2028-02",
        ]
        # Nothing before the day it started (22/11/2026), nothing after the horizon (22/2/2028).
        assert items[0].nominal_date == date(2026, 12, 14)
        assert items[-1].nominal_date == date(2028, 2, 14)
        # 14/2/2027 is a Sunday: the report is due on Monday 15/2.
        february = next(i for i in items if i.period_key == "2027-02")
        assert (february.nominal_date, february.due_date) == (date(2027, 2, 14), date(2027, 2, 15))
        assert all(ctx.calendar.is_working_day(i.due_date) for i in items)


def test_ongoing_task_started_later_reports_from_that_day(
    engine: Engine, make_plan: PlanMaker, clock
) -> None:
    clock.set(date(2027, 3, 1))
    make_plan([_row("Nhiệm vụ thường xuyên")])
    with engine.context() as ctx:
        items = _items(ctx)
        assert items[0].period_key == "2027-Q1"
        assert items[0].nominal_date == date(2027, 3, 14)
        assert all(i.nominal_date >= date(2027, 3, 1) for i in items)
        assert items[-1].nominal_date <= date(2028, 6, 1)


def test_recurring_annual_task_gets_occurrences_from_the_plans_year(
    engine: Engine, make_plan: PlanMaker
) -> None:
    make_plan([_row("Hằng năm")], issued_on="2025-06-04")
    with engine.context() as ctx:
        occurrences = _items(ctx, kind="occurrence")
        assert [(i.period_key, i.nominal_date, i.due_date) for i in occurrences] == [
            ("2025", date(2025, 12, 31), date(2025, 12, 31)),
            ("2026", date(2026, 12, 31), date(2026, 12, 31)),
            ("2027", date(2027, 12, 31), date(2027, 12, 31)),
        ]
        assert _items(ctx, kind="deadline") == []
        # The 2025 occurrence was owed before the task was started and is overdue now.
        late = overdue(ctx.session, date(2026, 11, 22))
        assert [(r.task_ref, r.period, r.days_overdue) for r in late] == [("1", "2025", 326)]


def test_anchored_annual_task_falls_on_12_april_rolled_to_a_working_day(
    engine: Engine, make_plan: PlanMaker
) -> None:
    make_plan([_row("Trước ngày 12 tháng 4 hằng năm")], issued_on="2025-01-10")
    with engine.context() as ctx:
        occurrences = _items(ctx, kind="occurrence")
        assert [(i.period_key, i.nominal_date, i.due_date) for i in occurrences] == [
            ("2025", date(2025, 4, 12), date(2025, 4, 14)),  # Saturday → Monday
            ("2026", date(2026, 4, 12), date(2026, 4, 13)),  # Sunday → Monday
            ("2027", date(2027, 4, 12), date(2027, 4, 12)),  # Monday
        ]
        assert _items(ctx, kind="deadline") == []


def test_anchored_occurrence_before_the_plan_was_issued_is_not_owed(
    engine: Engine, make_plan: PlanMaker
) -> None:
    make_plan([_row("Trước ngày 12 tháng 4 hằng năm")], issued_on="2025-06-04")
    with engine.context() as ctx:
        keys = [i.period_key for i in _items(ctx, kind="occurrence")]
        assert keys == ["2026", "2027"]


def test_conditional_task_owes_nothing_while_waiting(engine: Engine, make_plan: PlanMaker) -> None:
    make_plan([_row("Sau khi có hướng dẫn của Trung ương")])
    with engine.context() as ctx:
        task = task_by_ref(ctx, PLAN, "1")
        assert task.status == "waiting"
        assert _items(ctx) == []
        assert (
            overdue(ctx.session, date(2030, 1, 1), kinds=("deadline", "occurrence", "report")) == []
        )


def test_draft_task_owes_nothing(engine: Engine, make_plan: PlanMaker) -> None:
    make_plan([_row("1/2026"), _row("Thường xuyên", "2")], start=False)
    with engine.context() as ctx:
        assert _items(ctx, "1") == [] and _items(ctx, "2") == []


def test_fixed_date_annual_regime_gives_reports_on_12_april(
    engine: Engine, make_plan: PlanMaker, clock
) -> None:
    clock.set(date(2026, 2, 1))  # horizon: 1/5/2027
    make_plan([_row("Thường xuyên")], regime="annual:12/04")
    with engine.context() as ctx:
        reports = _items(ctx, kind="report")
        assert [(i.period_key, i.nominal_date, i.due_date) for i in reports] == [
            ("2026", date(2026, 4, 12), date(2026, 4, 13)),  # Sunday → Monday
            ("2027", date(2027, 4, 12), date(2027, 4, 12)),
        ]


def test_regeneration_twice_creates_nothing_new(engine: Engine, make_plan: PlanMaker) -> None:
    make_plan(
        [
            _row("Quý II/2027", "1"),
            _row("Thường xuyên", "2"),
            _row("Hằng năm", "3"),
            _row("Sau khi có hướng dẫn của UBND tỉnh", "4"),
            _row("Trước ngày 12 tháng 4 hằng năm", "5"),
        ],
        issued_on="2025-06-04",
    )

    def snapshot(ctx: Context) -> list[tuple]:
        rows = ctx.session.scalars(sa.select(DueItem).order_by(DueItem.id))
        return [
            (i.id, i.task_id, i.kind, i.period_key, i.due_date, i.status, i.sequence) for i in rows
        ]

    with engine.context() as ctx:
        before = snapshot(ctx)
    assert before
    for _ in range(2):
        with engine.context() as ctx:
            for ref in ("1", "2", "3", "4", "5"):
                changes = regenerate(ctx.session, task_by_ref(ctx, PLAN, ref), ctx.generation())
                assert not changes, (ref, changes.as_dict())
        with engine.context() as ctx:
            assert snapshot(ctx) == before


def test_changing_a_timing_moves_the_deadline_item(engine: Engine, make_plan: PlanMaker) -> None:
    make_plan([_row("Quý II/2027")])
    with engine.context() as ctx:
        before = _deadline(ctx)
        item_id, sequence = before.id, before.sequence
    with engine.context() as ctx:
        task = task_by_ref(ctx, PLAN, "1")
        assert change_timing(ctx, user(ctx, "vps.office"), task, "Quý III/2027") is True
    with engine.context() as ctx:
        moved = _deadline(ctx)
        assert moved.id == item_id
        assert moved.sequence == sequence + 1
        assert moved.status == "open"
        assert (moved.nominal_date, moved.due_date) == (date(2027, 9, 30), date(2027, 9, 30))
        task = task_by_ref(ctx, PLAN, "1")
        assert task.timing_raw == "Quý III/2027"
        events = ctx.session.scalars(
            sa.select(TaskEvent).where(
                TaskEvent.task_id == task.id, TaskEvent.action == "timing_changed"
            )
        ).all()
        assert len(events) == 1
        (event,) = events
        assert event.actor.username == "vps.office"
        assert event.changes["timing"]["from"]["raw"] == "Quý II/2027"
        assert event.changes["timing"]["to"]["deadline"] == "2027-09-30"


def test_setting_the_same_timing_changes_nothing(engine: Engine, make_plan: PlanMaker) -> None:
    make_plan([_row("Quý II/2027")])
    with engine.context() as ctx:
        task = task_by_ref(ctx, PLAN, "1")
        assert change_timing(ctx, user(ctx, "vps.office"), task, "Quý II/2027") is False
    with engine.context() as ctx:
        assert _deadline(ctx).sequence == 0
        count = ctx.session.scalar(
            sa.select(sa.func.count()).where(TaskEvent.action == "timing_changed")
        )
        assert count == 0


def test_changing_to_ongoing_cancels_the_deadline_without_deleting_it(
    engine: Engine, make_plan: PlanMaker
) -> None:
    make_plan([_row("Quý II/2027")])
    with engine.context() as ctx:
        item_id = _deadline(ctx).id
    with engine.context() as ctx:
        task = task_by_ref(ctx, PLAN, "1")
        change_timing(ctx, user(ctx, "vps.office"), task, "Thường xuyên")
    with engine.context() as ctx:
        cancelled = ctx.session.get(DueItem, item_id)
        assert cancelled is not None
        assert cancelled.kind == "deadline"
        assert cancelled.status == "cancelled"
        assert cancelled.cancelled_on == date(2026, 11, 22)
        assert cancelled.sequence == 1
        # Its periodic reports carry on.
        assert _items(ctx, kind="report")
        assert all(i.status == "open" for i in _items(ctx, kind="report"))


def test_changing_back_revives_the_same_deadline_item(engine: Engine, make_plan: PlanMaker) -> None:
    make_plan([_row("Quý II/2027")])
    with engine.context() as ctx:
        item_id = _deadline(ctx).id
    for raw in ("Thường xuyên", "30/9/2027"):
        with engine.context() as ctx:
            change_timing(ctx, user(ctx, "vps.office"), task_by_ref(ctx, PLAN, "1"), raw)
    with engine.context() as ctx:
        item = _deadline(ctx)
        assert item.id == item_id
        assert item.status == "open"
        assert item.cancelled_on is None
        assert item.due_date == date(2027, 9, 30)


# === Classification ================================================================================


def _class_of(ctx: Context, item_id: int, as_of: date) -> str:
    return ctx.session.scalar(sa.select(due_class(as_of)).where(DueItem.id == item_id))


def _counts(ctx: Context, as_of: date) -> dict[DueClass, int]:
    return summary(ctx.session, as_of).get(VPS, dict.fromkeys(DueClass, 0))


def _overdue_refs(ctx: Context, as_of: date) -> list[str]:
    return [r.task_ref for r in overdue(ctx.session, as_of)]


def _report(engine: Engine, clock, day: date, username: str = "vps.head") -> None:
    clock.set(day)
    with engine.context() as ctx:
        task = task_by_ref(ctx, PLAN, "1")
        submit_report(ctx, user(ctx, username), task, text="Đã hoàn thành", progress=100)


def test_deadline_not_met_is_not_yet_due_then_overdue(engine: Engine, make_plan: PlanMaker) -> None:
    make_plan([_row("15/12/2026")])  # a Tuesday
    with engine.context() as ctx:
        item_id = _deadline(ctx).id
        assert _class_of(ctx, item_id, date(2026, 12, 1)) == DueClass.NOT_YET_DUE
        # The deadline day itself is not late: a time limit ends at the end of its last day.
        assert _class_of(ctx, item_id, date(2026, 12, 15)) == DueClass.NOT_YET_DUE
        assert _overdue_refs(ctx, date(2026, 12, 15)) == []
        assert _counts(ctx, date(2026, 12, 15))[DueClass.NOT_YET_DUE] == 1

        assert _class_of(ctx, item_id, date(2026, 12, 16)) == DueClass.OVERDUE
        (late,) = overdue(ctx.session, date(2026, 12, 16))
        assert (late.task_ref, late.days_overdue) == ("1", 1)
        assert _counts(ctx, date(2026, 12, 16)) == {
            DueClass.COMPLETED_ON_TIME: 0,
            DueClass.COMPLETED_LATE: 0,
            DueClass.NOT_YET_DUE: 0,
            DueClass.OVERDUE: 1,
        }


def test_deadline_met_on_its_last_day_is_on_time(
    engine: Engine, make_plan: PlanMaker, clock
) -> None:
    make_plan([_row("15/12/2026")])
    _report(engine, clock, date(2026, 12, 15))
    with engine.context() as ctx:
        item = _deadline(ctx)
        assert (item.status, item.satisfied_on) == ("satisfied", date(2026, 12, 15))
        assert _class_of(ctx, item.id, date(2026, 12, 14)) == DueClass.NOT_YET_DUE
        for as_of in (date(2026, 12, 15), date(2026, 12, 16), date(2027, 6, 1)):
            assert _class_of(ctx, item.id, as_of) == DueClass.COMPLETED_ON_TIME, as_of
            assert _overdue_refs(ctx, as_of) == []
        assert _counts(ctx, date(2027, 1, 1))[DueClass.COMPLETED_ON_TIME] == 1


def test_deadline_met_late_is_overdue_until_done_then_completed_late(
    engine: Engine, make_plan: PlanMaker, clock
) -> None:
    make_plan([_row("15/12/2026")])
    _report(engine, clock, date(2026, 12, 20))
    with engine.context() as ctx:
        item = _deadline(ctx)
        assert item.satisfied_on == date(2026, 12, 20)
        expected = {
            date(2026, 12, 1): DueClass.NOT_YET_DUE,
            date(2026, 12, 15): DueClass.NOT_YET_DUE,
            # Satisfied only after these dates: as of then it was not done, so it was overdue.
            date(2026, 12, 16): DueClass.OVERDUE,
            date(2026, 12, 19): DueClass.OVERDUE,
            date(2026, 12, 20): DueClass.COMPLETED_LATE,
            date(2027, 3, 1): DueClass.COMPLETED_LATE,
        }
        for as_of, klass in expected.items():
            assert _class_of(ctx, item.id, as_of) == klass, as_of
        assert _overdue_refs(ctx, date(2026, 12, 19)) == ["1"]
        assert _overdue_refs(ctx, date(2026, 12, 20)) == []
        assert _counts(ctx, date(2026, 12, 19))[DueClass.OVERDUE] == 1
        assert _counts(ctx, date(2026, 12, 20))[DueClass.COMPLETED_LATE] == 1
        assert _counts(ctx, date(2026, 12, 20))[DueClass.OVERDUE] == 0


def test_weekend_deadline_is_judged_against_its_effective_date(
    engine: Engine, make_plan: PlanMaker, clock
) -> None:
    make_plan([_row("1/2027")])  # 31/1/2027 is a Sunday: due Monday 1/2/2027
    _report(engine, clock, date(2027, 2, 1))
    with engine.context() as ctx:
        item = _deadline(ctx)
        assert item.due_date == date(2027, 2, 1)
        assert _class_of(ctx, item.id, date(2027, 2, 1)) == DueClass.COMPLETED_ON_TIME
        assert _class_of(ctx, item.id, date(2027, 1, 31)) == DueClass.NOT_YET_DUE


def test_cancelled_item_stops_counting_from_its_cancellation_date(
    engine: Engine, make_plan: PlanMaker, clock
) -> None:
    make_plan([_row("1/2026")])  # due 2/2/2026, long overdue on 22/11/2026
    with engine.context() as ctx:
        assert _overdue_refs(ctx, date(2026, 11, 22)) == ["1"]
    clock.set(date(2026, 11, 25))
    with engine.context() as ctx:
        change_timing(ctx, user(ctx, "vps.office"), task_by_ref(ctx, PLAN, "1"), "Thường xuyên")
    with engine.context() as ctx:
        assert _deadline(ctx).cancelled_on == date(2026, 11, 25)
        # Before it was cancelled it was overdue, and reports for those dates still say so.
        assert _overdue_refs(ctx, date(2026, 11, 24)) == ["1"]
        assert _counts(ctx, date(2026, 11, 24))[DueClass.OVERDUE] == 1
        # From its cancellation on it is no longer counted at all.
        for as_of in (date(2026, 11, 25), date(2026, 12, 31)):
            assert _overdue_refs(ctx, as_of) == []
            assert sum(_counts(ctx, as_of).values()) == 0


def test_a_unit_head_of_another_unit_cannot_satisfy_the_deadline(
    engine: Engine, make_plan: PlanMaker, clock
) -> None:
    make_plan([_row("15/12/2026")])
    with pytest.raises(Exception, match="may not report"):
        _report(engine, clock, date(2026, 12, 10), username="qlkhcn.head")
    with engine.context() as ctx:
        assert _deadline(ctx).status == "open"
        assert _class_of(ctx, _deadline(ctx).id, date(2026, 12, 16)) == DueClass.OVERDUE


def test_refresh_rolls_the_horizon_forward_once_and_applies_calendar_changes(
    make_plan, engine: Engine, clock, settings
) -> None:
    from dataclasses import replace

    from workflow.context import Engine as NhiemvuEngine
    from workflow.models import TaskEvent
    from workflow.plans import refresh_due_items

    make_plan([["1", "Rà soát", "Văn phòng Sở", "", "Thường xuyên"]])
    clock.set(date(2027, 6, 1))
    with engine.context() as ctx:
        first = refresh_due_items(ctx)
    with engine.context() as ctx:
        again = refresh_due_items(ctx)
        keys = ctx.session.scalars(sa.select(DueItem.period_key)).all()
    assert (first.created, again.created, again.moved) == (6, 0, 0)  # 2028-Q1 … 2028-08
    assert "2028-08" in keys  # 15 months after 1 June 2027
    with_day_off = replace(settings, extra_days_off=frozenset({date(2027, 12, 14)}))
    office_calendar = NhiemvuEngine(with_day_off, clock)
    try:
        with office_calendar.context() as ctx:
            moved = refresh_due_items(ctx)
        with office_calendar.context() as ctx:
            annual = ctx.session.scalar(sa.select(DueItem).where(DueItem.period_key == "2027"))
            event = ctx.session.scalars(sa.select(TaskEvent).order_by(TaskEvent.id.desc())).first()
    finally:
        office_calendar.close()
    assert moved.moved == 1
    assert (annual.nominal_date, annual.due_date) == (date(2027, 12, 14), date(2027, 12, 15))
    assert event.action == "due_items_updated"
    assert event.changes["due_items"]["moved"] == {"report 2027": ["2027-12-14", "2027-12-15"]}
