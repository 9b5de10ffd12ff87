"""The permission contract, walked whole: role × action × own/other unit, and enforced by every
service so that no caller (CLI, web, scheduler) can step around it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import task_by_ref, user
from workflow import tasks as svc
from workflow.errors import ImportFailed, PermissionDenied
from workflow.models import Task, TaskEvent
from workflow.permissions import Action, can

# The task is led by Văn phòng Sở (VPS) with Phòng Quản lý TĐC (QLTDC) cooperating.
ROWS = [
    ["1", "Việc của Văn phòng Sở", "Văn phòng Sở", "Phòng Quản lý TĐC", "6/2027"],
    ["2", "Việc chờ hướng dẫn", "Văn phòng Sở", "", "Sau khi có hướng dẫn của Trung ương"],
]
PEOPLE = {
    "vps.head": "head of the lead unit",
    "qltdc.head": "head of a cooperating unit",
    "qlkhcn.head": "head of an unrelated unit",
    "qlkhcn.delegate": "delegate of an unrelated unit",
    "vps.office": "Office staff whose unit leads the task",
    "hcqt.office": "Office staff of another unit",
    "skhcn.director": "leadership",
    "admin": "administrator",
}
EVERYONE = set(PEOPLE)
LEAD_UNIT = {"vps.head", "vps.office", "admin"}
OFFICE = {"vps.office", "hcqt.office", "admin"}
EXPECTED: dict[Action, set[str]] = {
    Action.VIEW: EVERYONE - {"qlkhcn.head", "qlkhcn.delegate"},
    Action.COMMENT: EVERYONE - {"qlkhcn.head", "qlkhcn.delegate"},
    Action.REPORT: LEAD_UNIT,
    Action.REQUEST_EXTENSION: LEAD_UNIT,
    Action.EXPLAIN: LEAD_UNIT,
    Action.DIRECT: {"skhcn.director", "admin"},
    Action.REQUEST_EXPLANATION: {"skhcn.director", "admin"},
    **{
        action: OFFICE
        for action in (
            Action.START,
            Action.ACCEPT,
            Action.RETURN,
            Action.REOPEN,
            Action.CANCEL,
            Action.RELEASE,
            Action.DECIDE_EXTENSION,
            Action.EDIT,
            Action.SUPERSEDE,
            Action.IMPORT,
            Action.MANAGE_UNITS,
            Action.MANAGE_USERS,
        )
    },
}


def test_the_matrix_covers_every_action():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_who_may_do_what(make_plan, engine, action):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        allowed = {name for name in PEOPLE if can(user(ctx, name), action, task)}
    assert allowed == EXPECTED[action]


def test_a_delegate_acts_for_their_own_unit(make_plan, engine):
    make_plan([["1", "Việc của phòng", "Phòng Quản lý KH&CN", "", "6/2027"]])
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        assert can(user(ctx, "qlkhcn.delegate"), Action.REPORT, task)
        assert not can(user(ctx, "vps.head"), Action.REPORT, task)


def test_a_deactivated_account_may_do_nothing(make_plan, engine):
    make_plan(ROWS)
    with engine.context() as ctx:
        head = user(ctx, "vps.head")
        head.active = False
        task = task_by_ref(ctx, "test-plan", "1")
        assert not any(can(head, action, task) for action in Action)


def _snapshot(engine) -> tuple:
    with engine.context(write=False) as ctx:
        tasks = ctx.session.execute(
            sa.select(Task.id, Task.status, Task.version, Task.progress).order_by(Task.id)
        ).all()
        history = ctx.session.scalar(sa.select(sa.func.count()).select_from(TaskEvent))
    return tasks, history


SERVICE_CALLS = {
    "report": lambda ctx, who, t: svc.submit_report(ctx, who, t, text="Báo cáo", progress=50),
    "extension": lambda ctx, who, t: svc.request_extension(ctx, who, t, reason="Xin gia hạn"),
    "cancel": lambda ctx, who, t: svc.cancel_task(ctx, who, t, "Hủy"),
    "retime": lambda ctx, who, t: svc.change_timing(ctx, who, t, "Quý IV/2027"),
    "release": lambda ctx, who, t: svc.record_trigger(
        ctx, who, number="1/HD", issued_on=date(2026, 11, 1), issuer="Bộ", task_ids=[t.id + 1]
    ),
}


@pytest.mark.parametrize("call", list(SERVICE_CALLS))
@pytest.mark.parametrize("username", ["qlkhcn.head", "qltdc.head", "skhcn.director"])
def test_services_refuse_the_forbidden_and_change_nothing(make_plan, engine, call, username):
    make_plan(ROWS)
    before = _snapshot(engine)
    with pytest.raises(PermissionDenied, match=f"{username}.*may not"), engine.context() as ctx:
        SERVICE_CALLS[call](ctx, user(ctx, username), task_by_ref(ctx, "test-plan", "1"))
    assert _snapshot(engine) == before


def test_a_report_reviewed_by_a_unit_head_is_refused(make_plan, engine):
    make_plan(ROWS)
    with engine.context() as ctx:
        report = svc.submit_report(
            ctx,
            user(ctx, "vps.head"),
            task_by_ref(ctx, "test-plan", "1"),
            text="Xong",
            progress=100,
        )
        report_id = report.id
    before = _snapshot(engine)
    for reviewer in ("vps.head", "skhcn.director"):
        with pytest.raises(PermissionDenied), engine.context() as ctx:
            svc.accept_report(ctx, user(ctx, reviewer), report_id)
        with pytest.raises(PermissionDenied), engine.context() as ctx:
            svc.return_report(ctx, user(ctx, reviewer), report_id, "Không đạt")
    assert _snapshot(engine) == before


def test_the_office_of_another_organisation_may_not_touch_or_see_a_task(make_plan, engine):
    make_plan(ROWS)  # a plan of the Lai Châu Department of Science and Technology
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        ward_office = user(ctx, "vinhtuy.office")  # the office of Vĩnh Tuy ward, Hà Nội
        assert not any(can(ward_office, action, task) for action in Action)
        assert can(user(ctx, "admin"), Action.CANCEL, task)
    before = _snapshot(engine)
    with pytest.raises(PermissionDenied, match=r"vinhtuy\.office"), engine.context() as ctx:
        svc.cancel_task(ctx, user(ctx, "vinhtuy.office"), task_by_ref(ctx, "test-plan", "1"), "Hủy")
    assert _snapshot(engine) == before


def test_the_office_may_not_import_a_plan_for_another_organisation(organisation):
    from tests.conftest import PlanMaker

    with pytest.raises(ImportFailed, match="is another organisation: an Office imports only"):
        PlanMaker(organisation)(
            [["1", "Việc", "Văn phòng Sở", "", "6/2027"]], actor="vinhtuy.office", start=False
        )
