"""The task lifecycle as the Office and the units live it: start, report, accept, return,
reopen, cancel, waiting for guidance, extensions, supersession."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import task_by_ref, user
from workflow import tasks as svc
from workflow.classify import DueClass, due_class
from workflow.errors import IllegalTransition, InvalidInput, PermissionDenied
from workflow.models import DueItem, Plan, Report, Task, TaskEvent
from workflow.queries import overdue

FIXED = [["I", "Tuyên truyền"], ["1", "Xây dựng kế hoạch", "Văn phòng Sở", "", "3/2027"]]
ONGOING = [["1", "Rà soát thường xuyên", "Văn phòng Sở", "", "Thường xuyên"]]
CONDITIONAL = [
    [
        "1",
        "Tham mưu chính sách A",
        "Phòng Quản lý KH&CN",
        "",
        "Sau khi có hướng dẫn của Trung ương",
    ],
    ["2", "Tham mưu chính sách B", "Văn phòng Sở", "", "Sau khi có hướng dẫn của Trung ương"],
]


def items(ctx, task: Task) -> dict[tuple[str, str], DueItem]:
    rows = ctx.session.scalars(sa.select(DueItem).where(DueItem.task_id == task.id))
    return {(i.kind, i.period_key): i for i in rows}


def events(ctx, task: Task) -> list[str]:
    rows = ctx.session.scalars(
        sa.select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
    )
    return [e.action for e in rows]


def test_start_puts_a_fixed_task_to_work_with_its_deadline(make_plan, engine):
    make_plan(FIXED)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert task.status == "in_progress"
        assert task.started_on == date(2026, 11, 22)
        deadline = items(ctx, task)["deadline", "deadline"]
        assert deadline.nominal_date == date(2027, 3, 31)
        assert deadline.due_date == date(2027, 3, 31)
        assert events(ctx, task) == ["imported", "start"]


def test_a_conditional_task_waits_owes_nothing_and_is_never_overdue(make_plan, engine):
    make_plan(CONDITIONAL)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        assert task.status == "waiting"
        assert items(ctx, task) == {}
        assert (
            overdue(ctx.session, date(2030, 1, 1), kinds=("deadline", "occurrence", "report")) == []
        )


def test_one_trigger_document_releases_several_tasks_with_the_rule_deadline(
    make_plan, engine, clock
):
    make_plan(CONDITIONAL)
    clock.set(date(2027, 1, 10))
    with engine.context() as ctx:
        ids = [task_by_ref(ctx, "test-plan", r).id for r in ("1", "2")]
        svc.record_trigger(
            ctx,
            user(ctx, "vps.office"),
            number="12/HD-BKHCN",
            issued_on=date(2027, 1, 5),
            issuer="Bộ Khoa học và Công nghệ",
            task_ids=ids,
        )
    with engine.context() as ctx:
        for ref in ("1", "2"):
            task = task_by_ref(ctx, "test-plan", ref)
            assert task.status == "in_progress"
            assert task.trigger_document.number == "12/HD-BKHCN"
            deadline = items(ctx, task)["deadline", "deadline"]
            # 30 days after 5 Jan 2027 is Thursday 4 Feb 2027, a working day
            assert deadline.nominal_date == date(2027, 2, 4)
            assert events(ctx, task)[-1] == "release"


def test_recording_a_trigger_is_all_or_nothing(make_plan, engine, clock):
    make_plan([*CONDITIONAL, ["3", "Việc có hạn", "Văn phòng Sở", "", "6/2027"]])
    with engine.context() as ctx:
        ids = [task_by_ref(ctx, "test-plan", r).id for r in ("1", "3")]
    with (
        pytest.raises(IllegalTransition, match="only a task waiting for guidance"),
        engine.context() as ctx,
    ):
        svc.record_trigger(
            ctx,
            user(ctx, "vps.office"),
            number="1/HD",
            issued_on=date(2026, 11, 1),
            issuer="Bộ",
            task_ids=ids,
        )
    with engine.context() as ctx:
        assert task_by_ref(ctx, "test-plan", "1").status == "waiting"
        assert (
            ctx.session.scalar(
                sa.select(sa.func.count())
                .select_from(TaskEvent)
                .where(TaskEvent.action == "release")
            )
            == 0
        )


def report(
    engine,
    ref: str,
    username: str,
    progress: int,
    text: str = "Đã thực hiện",
    period: str | None = None,
) -> int:
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        return svc.submit_report(
            ctx, user(ctx, username), task, text=text, progress=progress, period_key=period
        ).id


def test_complete_report_accepted_closes_the_task_on_time(make_plan, engine, clock):
    make_plan(FIXED)
    clock.set(date(2027, 3, 20))
    report_id = report(engine, "I.1", "vps.head", 100, period="deadline")
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert task.status == "reported"
        assert items(ctx, task)["deadline", "deadline"].status == "satisfied"
    clock.set(date(2027, 3, 25))
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), report_id)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert task.status == "closed"
        assert task.closed_on == date(2027, 3, 25)
        klass = ctx.session.scalar(
            sa.select(due_class(date(2027, 6, 1))).where(
                DueItem.task_id == task.id, DueItem.kind == "deadline"
            )
        )
        assert klass == DueClass.COMPLETED_ON_TIME
        future = [
            i
            for i in items(ctx, task).values()
            if i.kind == "report" and i.nominal_date > date(2027, 3, 25)
        ]
        assert future and all(i.status == "cancelled" for i in future)
        assert events(ctx, task)[-2:] == ["report", "accept"]


def test_a_returned_report_reopens_what_it_satisfied_and_needs_a_reason(make_plan, engine, clock):
    make_plan(FIXED)
    report_id = report(engine, "I.1", "vps.head", 100, period="deadline")
    with pytest.raises(InvalidInput, match="reason: required"), engine.context() as ctx:
        svc.return_report(ctx, user(ctx, "vps.office"), report_id, "  ")
    with engine.context() as ctx:
        assert ctx.session.get(Report, report_id).status == "submitted"
        svc.return_report(ctx, user(ctx, "vps.office"), report_id, "Thiếu số liệu")
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert task.status == "in_progress"
        assert task.progress == 0
        deadline = items(ctx, task)["deadline", "deadline"]
        assert deadline.status == "open" and deadline.report_id is None
        assert ctx.session.get(Report, report_id).review_note == "Thiếu số liệu"


def test_ongoing_task_cycles_back_to_work_when_a_period_is_accepted(make_plan, engine, clock):
    make_plan(ONGOING)
    report_id = report(engine, "1", "vps.head", 100)  # the earliest open item: the annual report
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), report_id)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        assert task.status == "in_progress"
        satisfied = [i.period_key for i in items(ctx, task).values() if i.status == "satisfied"]
        assert satisfied == ["2026"]


def test_partial_progress_is_accepted_without_closing(make_plan, engine):
    make_plan(FIXED)
    report_id = report(engine, "I.1", "vps.head", 40)
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), report_id)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert (task.status, task.progress) == ("in_progress", 40)
        assert items(ctx, task)["deadline", "deadline"].status == "open"


def test_illegal_transition_is_refused_and_changes_nothing(make_plan, engine):
    make_plan(FIXED)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        version, history = task.version, events(ctx, task)
    with (
        pytest.raises(IllegalTransition, match="is in_progress: cannot reopen"),
        engine.context() as ctx,
    ):
        svc.reopen_task(ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "I.1"), "lý do")
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert (task.status, task.version, events(ctx, task)) == ("in_progress", version, history)


def test_reopened_task_owes_its_deadline_again_but_not_the_reports_of_the_closed_months(
    make_plan, engine, clock
):
    make_plan(FIXED)
    report_id = report(engine, "I.1", "vps.head", 100, period="deadline")
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), report_id)
    clock.set(date(2027, 2, 20))
    with engine.context() as ctx:
        svc.reopen_task(
            ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "I.1"), "Cần bổ sung"
        )
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        found = items(ctx, task)
        assert task.status == "in_progress" and task.closed_on is None
        assert found["deadline", "deadline"].status == "open"
        assert found["report", "2027-01"].status == "cancelled"  # while closed: not owed
        assert found["report", "2027-Q1"].status == "open"  # after reopening: owed


def test_cancel_needs_a_reason_and_cancels_open_items(make_plan, engine):
    make_plan(FIXED)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        svc.cancel_task(ctx, user(ctx, "vps.office"), task, "Không còn phù hợp")
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert task.status == "cancelled"
        assert {i.status for i in items(ctx, task).values()} == {"cancelled"}
        assert overdue(ctx.session, date(2030, 1, 1)) == []


def test_extension_granted_moves_the_due_date_and_keeps_the_original(make_plan, engine, clock):
    make_plan(FIXED)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        request = svc.request_extension(
            ctx,
            user(ctx, "vps.head"),
            task,
            reason="Chờ số liệu",
            period_key="deadline",
            proposed_date=date(2027, 6, 30),
        )
        request_id = request.id
    with engine.context() as ctx:
        svc.decide_extension(ctx, user(ctx, "vps.office"), request_id, grant=True)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        deadline = items(ctx, task)["deadline", "deadline"]
        assert (deadline.original_due_date, deadline.due_date) == (
            date(2027, 3, 31),
            date(2027, 6, 30),
        )
        assert deadline.sequence == 1
        assert events(ctx, task)[-2:] == ["extension_requested", "extension_granted"]
        granted = ctx.session.scalar(
            sa.select(TaskEvent).where(TaskEvent.action == "extension_granted")
        )
        assert granted.changes["original"] == "2027-03-31"
        # judged against the granted date: 20 May 2027 is no longer overdue
        assert overdue(ctx.session, date(2027, 5, 20)) == []


def test_extension_refused_needs_a_reason_and_a_grant_needs_a_later_date(make_plan, engine):
    make_plan(FIXED)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        request_id = svc.request_extension(
            ctx, user(ctx, "vps.head"), task, reason="Chờ", period_key="deadline"
        ).id
    with pytest.raises(InvalidInput, match="new date: required"), engine.context() as ctx:
        svc.decide_extension(ctx, user(ctx, "vps.office"), request_id, grant=True)
    with pytest.raises(InvalidInput, match="not after the due date"), engine.context() as ctx:
        svc.decide_extension(
            ctx, user(ctx, "vps.office"), request_id, grant=True, new_date=date(2027, 3, 1)
        )
    with pytest.raises(InvalidInput, match="reason for refusing"), engine.context() as ctx:
        svc.decide_extension(ctx, user(ctx, "vps.office"), request_id, grant=False)
    with engine.context() as ctx:
        request = svc.decide_extension(
            ctx, user(ctx, "vps.office"), request_id, grant=False, note="Không đủ căn cứ"
        )
        assert request.status == "refused"
        assert items(ctx, task_by_ref(ctx, "test-plan", "I.1"))[
            "deadline", "deadline"
        ].due_date == date(2027, 3, 31)


def test_supersession_carries_over_repeated_tasks_and_ends_the_others(make_plan, engine):
    make_plan(
        [
            ["1", "Xây dựng kế hoạch", "Văn phòng Sở", "", "3/2027"],
            ["2", "Việc cũ bỏ đi", "Văn phòng Sở", "", "2025"],
        ],
        code="old",
        number="160/KH-SKHCN",
    )
    make_plan(
        [["1", "XÂY DỰNG KẾ HOẠCH", "Văn phòng Sở", "", "6/2027"]],
        code="new",
        number="546/KH-SKHCN",
        supersedes="160/KH-SKHCN",
    )
    with engine.context() as ctx:
        old_plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "old"))
        carried, dropped = task_by_ref(ctx, "old", "1"), task_by_ref(ctx, "old", "2")
        successor = task_by_ref(ctx, "new", "1")
        assert old_plan.status == "superseded"
        assert (carried.status, carried.superseded_by_id) == ("superseded", successor.id)
        assert (dropped.status, dropped.superseded_by_id) == ("superseded", None)
        assert overdue(ctx.session, date(2026, 11, 22), plan_id=old_plan.id) == []
        assert "carried_over" in events(ctx, successor)


LATE = [["1", "Việc đã quá hạn", "Văn phòng Sở", "", "12/2025"]]


def test_a_progress_report_on_a_late_task_does_not_meet_its_deadline(make_plan, engine):
    make_plan(LATE)
    report(engine, "1", "vps.head", 10)  # no period named: the earliest open reporting period
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        assert items(ctx, task)["deadline", "deadline"].status == "open"
        assert [r.task_ref for r in overdue(ctx.session, date(2026, 11, 22))] == ["1"]
    with pytest.raises(InvalidInput, match="only a complete report"), engine.context() as ctx:
        svc.submit_report(
            ctx,
            user(ctx, "vps.head"),
            task_by_ref(ctx, "test-plan", "1"),
            text="Mới được 10 %",
            progress=10,
            period_key="deadline",
        )


def test_a_reopened_task_does_not_close_on_a_later_partial_report(make_plan, engine, clock):
    make_plan(FIXED)
    first = report(engine, "I.1", "vps.head", 100, period="deadline")
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), first)
        svc.reopen_task(
            ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "I.1"), "Bổ sung"
        )
    later = report(engine, "I.1", "vps.head", 20)
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), later)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert task.status == "in_progress"
        assert items(ctx, task)["deadline", "deadline"].status == "open"


@pytest.mark.parametrize("order", ["complete first", "partial first"])
def test_two_pending_reports_close_the_task_whichever_is_accepted_first(make_plan, engine, order):
    make_plan(FIXED)
    complete = report(engine, "I.1", "vps.head", 100, period="deadline")
    partial = report(engine, "I.1", "vps.head", 30)
    first, second = (complete, partial) if order == "complete first" else (partial, complete)
    for report_id in (first, second):
        with engine.context() as ctx:
            svc.accept_report(ctx, user(ctx, "vps.office"), report_id)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        assert (task.status, task.progress) == ("closed", 100)


def test_every_change_raises_the_version_even_within_one_instant(make_plan, engine):
    make_plan(FIXED)  # the clock does not move during this test
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "I.1")
        start = task.version
        request = svc.request_extension(ctx, user(ctx, "vps.head"), task, reason="Chờ")
        request_id = request.id
    with engine.context() as ctx:
        assert task_by_ref(ctx, "test-plan", "I.1").version == start + 1
        svc.decide_extension(ctx, user(ctx, "vps.office"), request_id, grant=False, note="Không")
    with engine.context() as ctx:
        assert task_by_ref(ctx, "test-plan", "I.1").version == start + 2


def _grant_extension(engine, ref: str, new_date: date) -> int:
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        request = svc.request_extension(
            ctx, user(ctx, "vps.head"), task, reason="Chờ số liệu", period_key="deadline"
        )
        request_id = request.id
    return request_id


def test_an_extension_cannot_rewrite_a_deadline_already_met(make_plan, engine, clock):
    make_plan(LATE)
    request_id = _grant_extension(engine, "1", date(2027, 1, 31))
    report_id = report(engine, "1", "vps.head", 100, period="deadline")
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), report_id)
    with pytest.raises(IllegalTransition, match="only a date still owed"), engine.context() as ctx:
        svc.decide_extension(
            ctx, user(ctx, "vps.office"), request_id, grant=True, new_date=date(2027, 1, 31)
        )
    with engine.context() as ctx:
        klass = ctx.session.scalar(
            sa.select(due_class(date(2026, 12, 1))).where(DueItem.kind == "deadline")
        )
        assert klass == DueClass.COMPLETED_LATE


def test_a_timing_correction_drops_an_extension_granted_against_the_old_date(make_plan, engine):
    make_plan([["1", "Việc", "Văn phòng Sở", "", "3/2027"]])
    request_id = _grant_extension(engine, "1", date(2027, 4, 30))
    with engine.context() as ctx:
        svc.decide_extension(
            ctx, user(ctx, "vps.office"), request_id, grant=True, new_date=date(2027, 4, 30)
        )
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        svc.change_timing(ctx, user(ctx, "vps.office"), task, "Quý IV/2027")
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        deadline = items(ctx, task)["deadline", "deadline"]
        assert (deadline.extended_to, deadline.due_date) == (None, date(2027, 12, 31))
        last = ctx.session.scalars(
            sa.select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id.desc())
        ).first()
        assert last.changes["due_items"]["extensions_dropped"] == ["deadline"]


@pytest.mark.parametrize(
    ("rows", "ref", "text", "error", "message"),
    [
        (FIXED, "I.1", "", InvalidInput, "not a timing nhiemvu can read"),
        (FIXED, "I.1", "sớm nhất có thể", InvalidInput, "not a timing nhiemvu can read"),
        (CONDITIONAL, "1", "6/2027", IllegalTransition, "record its trigger document"),
        (
            FIXED,
            "I.1",
            "Sau khi có hướng dẫn của Bộ",
            IllegalTransition,
            "cannot go back to waiting",
        ),
    ],
)
def test_a_timing_correction_must_be_readable_and_suit_the_state(
    make_plan, engine, rows, ref, text, error, message
):
    make_plan(rows)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        before = (task.timing_raw, task.status, task.version)
    with pytest.raises(error, match=message), engine.context() as ctx:
        svc.change_timing(ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", ref), text)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        assert (task.timing_raw, task.status, task.version) == before


def test_a_period_owed_twice_must_be_named_with_its_kind(make_plan, engine):
    make_plan([["1", "Tổng kết năm", "Văn phòng Sở", "", "Hằng năm"]])  # occurrence and report 2026
    with pytest.raises(InvalidInput, match=r"ambiguous: say report:2026, occurrence:2026"):
        report(engine, "1", "vps.head", 100, period="2026")
    report(engine, "1", "vps.head", 100, period="occurrence:2026")
    with engine.context() as ctx:
        found = items(ctx, task_by_ref(ctx, "test-plan", "1"))
        assert found["occurrence", "2026"].status == "satisfied"
        assert found["report", "2026"].status == "open"


def test_cancelling_a_task_closes_its_waiting_extension_requests(make_plan, engine):
    make_plan(FIXED)
    request_id = _grant_extension(engine, "I.1", date(2027, 6, 30))
    with engine.context() as ctx:
        svc.cancel_task(ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "I.1"), "Bỏ")
    with engine.context() as ctx:
        request = ctx.session.get(svc.ExtensionRequest, request_id)
        assert (request.status, request.decision_note) == ("refused", "Nhiệm vụ đã hủy: Bỏ")


@pytest.mark.parametrize("review", ["accept", "return"])
def test_nobody_reviews_a_report_they_submitted_a_colleague_does(make_plan, engine, review):
    """The Office may report on a task its own unit leads; another person reviews it."""
    make_plan(FIXED)
    report_id = report(engine, "I.1", "vps.office", 100, period="deadline")
    act = {
        "accept": lambda ctx, who: svc.accept_report(ctx, user(ctx, who), report_id),
        "return": lambda ctx, who: svc.return_report(ctx, user(ctx, who), report_id, "Thiếu"),
    }[review]
    with pytest.raises(PermissionDenied, match="they submitted it"), engine.context() as ctx:
        act(ctx, "vps.office")
    with engine.context() as ctx:
        assert ctx.session.get(Report, report_id).status == "submitted"
        assert events(ctx, task_by_ref(ctx, "test-plan", "I.1"))[-1] == "report"
        act(ctx, "hcqt.office")
    with engine.context() as ctx:
        reviewed = ctx.session.get(Report, report_id)
        assert reviewed.status == {"accept": "accepted", "return": "returned"}[review]
        assert reviewed.reviewed_by.username == "hcqt.office"
