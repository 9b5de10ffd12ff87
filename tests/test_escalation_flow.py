"""A task's life in time travel, the sweep and the sender run as the scheduler would, against a
real SMTP server: every reminder and escalation step arrives once, in order, to the right
people, by e-mail and in the app; nothing arrives twice however often the jobs run."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests import test_mail
from tests.conftest import task_by_ref, user
from workflow import tasks as svc
from workflow.config import load_settings
from workflow.context import Engine
from workflow.digest import morning_digest
from workflow.escalation import sweep
from workflow.mail import deliver
from workflow.models import DueItem, Notification, User

server = test_mail.server  # the fixtures: a real SMTP server, the demo organisation mailing it
mailer = test_mail.mailer
QLKHCN = "Phòng Quản lý KH&CN"
ANNUAL = "annual:14/12"  # the plan's only report falls after the days these tests look at


def run_jobs(engine, clock, day: date, times: int = 2) -> None:
    """The scheduler's day: the sweep and the sender, ``times`` over (nothing new the second)."""
    clock.set(day, hour=9)
    for _ in range(times):
        with engine.context() as ctx:
            sweep(ctx)
        deliver(engine)


def arrivals(server) -> list[tuple[str, str]]:
    """(recipient, subject) of every e-mail the server received, in order."""
    return [(m["To"], m["Subject"]) for m in server.mailbox.messages()]


def test_a_late_task_reminds_then_escalates_step_by_step(make_plan, mailer, server, clock):
    clock.set(date(2026, 8, 25))
    make_plan([["1", "Xây dựng đề án chuyển đổi số", QLKHCN, "", "30/10/2026"]], regime=ANNUAL)
    seen: dict[date, list[tuple[str, str]]] = {}
    day = date(2026, 10, 20)
    while day <= date(2026, 11, 20):
        before = len(server.mailbox.received)
        run_jobs(mailer, clock, day)
        seen[day] = arrivals(server)[before:]
        day += timedelta(days=1)
    got = {d: sorted(to for to, _ in mails) for d, mails in seen.items() if mails}
    lead_unit = ["qlkhcn.delegate@example.gov.vn", "qlkhcn.head@example.gov.vn"]
    assert got == {
        date(2026, 10, 23): lead_unit,  # 7 days before (calendar days)
        date(2026, 10, 29): lead_unit,  # 1 day before
        date(2026, 11, 2): ["qlkhcn.head@example.gov.vn"],  # 1 working day after Fri 30/10
        date(2026, 11, 4): ["hcqt.office@example.gov.vn", "vps.office@example.gov.vn"],  # 3
        date(2026, 11, 13): [  # 10 working days after: leadership of Lai Châu
            "laichau.leader@example.gov.vn",
            "skhcn.director@example.gov.vn",
        ],
    }
    subjects = {d: {s for _, s in mails} for d, mails in seen.items() if mails}
    assert subjects[date(2026, 10, 23)] == {
        "[nhiemvu] Còn 7 ngày: Hoàn thành nhiệm vụ – Xây dựng đề án chuyển đổi số"
    }
    assert subjects[date(2026, 11, 4)] == {
        "[nhiemvu] Quá hạn 3 ngày làm việc: Hoàn thành nhiệm vụ – Xây dựng đề án chuyển đổi số"
    }
    with mailer.context(write=False) as ctx:  # the same notices in the app, once each
        notices = ctx.session.execute(
            sa.select(Notification.kind, sa.func.count()).group_by(Notification.kind)
        ).all()
        assert dict(notices) == {"reminder": 4, "escalation": 5}
        vinhtuy = user(ctx, "vinhtuy.office")  # another organisation's Office hears nothing
        assert not ctx.session.scalar(
            sa.select(sa.func.count()).where(Notification.user_id == vinhtuy.id)
        )


def test_a_report_in_time_stops_the_escalation(make_plan, mailer, server, clock):
    clock.set(date(2026, 8, 25))
    make_plan([["1", "Xây dựng đề án chuyển đổi số", QLKHCN, "", "30/10/2026"]], regime=ANNUAL)
    run_jobs(mailer, clock, date(2026, 10, 29))  # the eve: "1 day left"
    with mailer.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        svc.submit_report(ctx, user(ctx, "qlkhcn.head"), task, text="Đã xong", progress=100)
        assert all(i.status != "open" for i in task.due_items if i.kind == "deadline")
    received = len(server.mailbox.received)
    for day in (date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 13)):
        run_jobs(mailer, clock, day)
    assert len(server.mailbox.received) == received


def test_an_extension_counts_the_steps_again_from_the_new_date(make_plan, mailer, server, clock):
    clock.set(date(2026, 8, 25))
    make_plan([["1", "Xây dựng đề án chuyển đổi số", QLKHCN, "", "30/10/2026"]], regime=ANNUAL)
    run_jobs(mailer, clock, date(2026, 11, 2))  # one working day late: the unit head is told
    with mailer.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        asked = svc.request_extension(
            ctx,
            user(ctx, "qlkhcn.head"),
            task,
            reason="Chờ số liệu",
            period_key="deadline",
            proposed_date=date(2026, 11, 30),
        )
        svc.decide_extension(ctx, user(ctx, "vps.office"), asked.id, grant=True)
    before = len(server.mailbox.received)
    run_jobs(mailer, clock, date(2026, 11, 4))  # no "3 days late" for the old date
    assert len(server.mailbox.received) == before
    run_jobs(mailer, clock, date(2026, 11, 23))  # 7 days before the new date
    new = arrivals(server)[before:]
    assert sorted(to for to, _ in new) == [
        "qlkhcn.delegate@example.gov.vn",
        "qlkhcn.head@example.gov.vn",
    ]
    assert all(s.startswith("[nhiemvu] Còn 7 ngày") for _, s in new)


def test_the_office_is_asked_whether_guidance_has_arrived(make_plan, mailer, server, clock):
    clock.set(date(2026, 8, 25))
    make_plan(
        [["1", "Triển khai hướng dẫn", QLKHCN, "", "Sau khi có hướng dẫn của Trung ương"]],
        regime=ANNUAL,
    )
    run_jobs(mailer, clock, date(2026, 9, 23))
    assert server.mailbox.received == []
    run_jobs(mailer, clock, date(2026, 9, 24))  # 30 days after it started waiting
    asked = arrivals(server)
    assert sorted(to for to, _ in asked) == [
        "hcqt.office@example.gov.vn",
        "vps.office@example.gov.vn",
    ]
    assert all(s.startswith("[nhiemvu] Đã có hướng dẫn chưa?") for _, s in asked)
    run_jobs(mailer, clock, date(2026, 10, 20))
    assert len(server.mailbox.received) == 2  # the next question is due on 24/10


def test_the_morning_digest_groups_a_persons_items_once_a_day(make_plan, mailer, server, clock):
    clock.set(date(2026, 8, 25))
    make_plan(
        [
            ["1", "Xây dựng đề án chuyển đổi số", QLKHCN, "", "30/10/2026"],
            ["2", "Rà soát thủ tục hành chính", QLKHCN, "", "25/11/2026"],
        ],
        regime=ANNUAL,
    )
    clock.set(date(2026, 11, 20), hour=7)
    for _ in range(2):
        with mailer.context() as ctx:
            morning_digest(ctx)
        deliver(mailer)
    mails = {m["To"]: m for m in server.mailbox.messages()}
    head = mails["qlkhcn.head@example.gov.vn"]
    assert head["Subject"] == "[nhiemvu] Bản tin ngày 20/11/2026: 1 quá hạn, 1 sắp đến hạn"
    text = head.get_body(("plain",)).get_content()
    assert "30/10/2026 · Hoàn thành nhiệm vụ · Xây dựng đề án chuyển đổi số" in text
    assert "25/11/2026 · Hoàn thành nhiệm vụ · Rà soát thủ tục hành chính" in text
    assert len(server.mailbox.received) == len(mails)  # one each, though it ran twice
    assert "vinhtuy.office@example.gov.vn" not in mails


def test_no_due_items_of_other_kinds_in_these_plans(make_plan, organisation, clock):
    """The scenarios above count messages: before 14/12/2026 their plan owes a deadline only."""
    clock.set(date(2026, 8, 25))
    make_plan([["1", "Xây dựng đề án chuyển đổi số", QLKHCN, "", "30/10/2026"]], regime=ANNUAL)
    with organisation.context(write=False) as ctx:
        kinds = ctx.session.execute(sa.select(DueItem.kind, DueItem.due_date)).all()
    assert sorted(kinds)[0] == ("deadline", date(2026, 10, 30))
    assert all(day >= date(2026, 12, 14) for kind, day in kinds if kind != "deadline")


def test_the_demo_escalates_a_seed_task_step_by_step(server, tmp_path):
    """The issue's "done": the demo, its clock set after a seed deadline, run as an operator
    would (`nhiemvu --today … sweep`, `mail send`): the unit head, then the Office, then
    leadership hear of task VI.1 of plan 546/KH-VPUBND (December's occurrence, due Tuesday
    15/12/2026), once each, by e-mail and in the app."""
    from tests.test_cli import nhiemvu, ok

    (tmp_path / "config.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n', encoding="utf-8"
    )
    ok(nhiemvu(tmp_path, "--today", "2026-11-22", "demo"))
    topic = "Thực hiện kỳ tháng 12/2026 – Phòng Hành chính - Quản trị chủ trì"
    heard: dict[str, list[str]] = {}
    for day in ("2026-12-08", "2026-12-14", "2026-12-16", "2026-12-18", "2026-12-29"):
        before = len(server.mailbox.received)
        for _ in range(2):  # twice: nothing new the second time
            ok(nhiemvu(tmp_path, "--today", day, "sweep"))
            ok(nhiemvu(tmp_path, "--today", day, "mail", "send", "--limit", "1000"))
        new = server.mailbox.messages()[before:]
        heard[day] = sorted(m["To"] for m in new if topic in m["Subject"])
    assert heard == {
        "2026-12-08": ["hcqt.head@example.gov.vn"],  # 7 days before: the lead unit
        "2026-12-14": ["hcqt.head@example.gov.vn"],  # 1 day before
        "2026-12-16": ["hcqt.head@example.gov.vn"],  # 1 working day late: its head
        "2026-12-18": ["hcqt.office@example.gov.vn", "vps.office@example.gov.vn"],  # 3: Office
        "2026-12-29": ["laichau.leader@example.gov.vn", "skhcn.director@example.gov.vn"],  # 10
    }
    engine = Engine(load_settings(tmp_path))
    try:
        with engine.context(write=False) as ctx:
            told = ctx.session.execute(
                sa.select(User.username, sa.func.count())
                .join(Notification.user)
                .where(Notification.subject.contains(topic))
                .group_by(User.username)
            ).all()
    finally:
        engine.close()
    assert dict(told) == {
        "hcqt.head": 3,
        "hcqt.office": 1,
        "vps.office": 1,
        "laichau.leader": 1,
        "skhcn.director": 1,
    }
