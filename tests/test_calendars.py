"""Calendar feeds: which due items a feed holds, and iCalendar text another parser accepts.

Feeds are written with ``icalendar`` and read back with ``vobject``, an independent parser.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import vobject

from tests.conftest import task_by_ref, user
from workflow import calendars as cal
from workflow import tasks as svc
from workflow.errors import NotFound, PermissionDenied
from workflow.models import CalendarSubscription, DueItem, Plan, Task, Unit
from workflow.permissions import Action, can

TODAY = date(2026, 11, 22)
BASE = "https://nhiemvu.example.vn"
VPS = "Văn phòng Sở"
QLKHCN = "Phòng Quản lý KH&CN"
QLTDC = "Phòng Quản lý Tiêu chuẩn Đo lường Chất lượng"

ROWS = [
    ["1", "Xây dựng đề án chuyển đổi số", QLKHCN, "", "12/2026"],
    ["2", "Rà soát thủ tục hành chính", VPS, QLTDC, "3/2027"],
    ["3", "Theo dõi, đôn đốc thực hiện", QLKHCN, "", "Thường xuyên"],
    ["4", "Triển khai khi có hướng dẫn", QLKHCN, "", "Sau khi có hướng dẫn của Trung ương"],
    ["5", "Tổng kết đề án cũ", QLKHCN, "", "6/2026"],
]


@pytest.fixture
def plan(make_plan, engine, clock):
    clock.set(date(2026, 8, 25))
    make_plan(ROWS, regime="monthly:14", issued_on="2026-08-20")
    clock.set(TODAY)
    return engine


def unit_id(ctx, code: str) -> int:
    return ctx.session.scalar(sa.select(Unit.id).where(Unit.code == code))


def render(ctx, username: str, scope: str, scope_id: int) -> bytes:
    feed = cal.feed_for(ctx.session, user(ctx, username), scope, scope_id)
    window = cal.Window.around(ctx.today())
    return cal.build_feed(ctx.session, feed, window, BASE, ctx.rules)


def parsed(raw: bytes):
    return vobject.readOne(raw.decode("utf-8"))


def events(raw: bytes) -> dict[str, object]:
    return {e.uid.value: e for e in parsed(raw).contents.get("vevent", [])}


def uid(item_id: int) -> str:
    return f"due-{item_id}@nhiemvu.example.vn"


def test_unit_feed_holds_exactly_the_units_items_in_the_window(plan):
    with plan.context() as ctx:
        raw = render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN"))
        window = cal.Window.around(TODAY)
        assert window == cal.Window(date(2026, 9, 23), date(2028, 2, 22))
        expected = ctx.session.scalars(
            sa.select(DueItem.id)
            .join(Task)
            .where(
                Task.ref.in_(["1", "3", "4", "5"]),
                DueItem.due_date.between(window.start, window.end),
            )
        ).all()
        assert expected  # the ongoing task's monthly reports, task 1's deadline
        assert set(events(raw)) == {uid(i) for i in expected}
        everything = ctx.session.scalars(sa.select(DueItem.id)).all()
        assert len(everything) > len(expected)  # other units' items and old ones stayed out


def test_waiting_and_ongoing_tasks_appear_as_the_readme_says(plan):
    with plan.context() as ctx:
        got = events(render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN")))
        summaries = [e.summary.value for e in got.values()]
        assert not any("Triển khai khi có hướng dẫn" in s for s in summaries)  # waiting
        ongoing = [s for s in summaries if "Theo dõi, đôn đốc" in s]
        assert ongoing and all(s.startswith("[Hạn] Báo cáo tháng ") for s in ongoing)
        assert "[Hạn] Báo cáo tháng 12/2026 – Phòng Quản lý Khoa học và Công nghệ – " in "\n".join(
            ongoing
        )


def test_events_are_all_day_on_the_effective_date_with_reminders(plan):
    with plan.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        item = next(i for i in task.due_items if i.kind == "deadline")
        raw = render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN"))
    assert b"DTSTART;VALUE=DATE:20261231\r\n" in raw
    assert b"DTEND;VALUE=DATE:20270101\r\n" in raw
    event = events(raw)[uid(item.id)]
    assert event.dtstart.value == item.due_date == date(2026, 12, 31)
    assert event.dtend.value == item.due_date + timedelta(days=1)
    assert event.status.value == "CONFIRMED"
    assert event.categories.value == ["Hạn hoàn thành"]
    assert event.url.value == f"{BASE}/tasks/{item.task_id}"
    assert sorted(a.trigger.value for a in event.contents["valarm"]) == [
        timedelta(days=-7),
        timedelta(days=-1),
    ]
    text = event.description.value
    assert "1/KH-SKHCN" in text and "Xây dựng đề án chuyển đổi số" in text
    assert "Thời gian theo kế hoạch: 12/2026" in text and "đang thực hiện" in text
    assert f"{BASE}/tasks/{item.task_id}" in text


def test_calendar_properties(plan):
    with plan.context() as ctx:
        raw = render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN"))
    calendar = parsed(raw)
    assert calendar.method.value == "PUBLISH"
    assert calendar.version.value == "2.0"
    assert calendar.contents["x-wr-calname"][0].value.endswith(
        "Phòng Quản lý Khoa học và Công nghệ"
    )
    assert calendar.contents["x-wr-timezone"][0].value == "Asia/Ho_Chi_Minh"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in raw
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in raw
    assert b"X-WR-CALDESC:" in raw and b"PRODID:" in raw


def test_lines_are_folded_at_75_octets_without_splitting_a_letter(plan):
    with plan.context() as ctx:
        raw = render(ctx, "vps.office", "person", user(ctx, "vps.office").id)
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(len(line) > 70 for line in lines)  # long Vietnamese lines were folded
    for line in lines:
        line.decode("utf-8")  # no line ends inside a multi-byte character
    assert "Xây dựng đề án chuyển đổi số" in "".join(e.summary.value for e in events(raw).values())


def test_a_persons_feed_never_holds_what_they_may_not_see(plan):
    with plan.context() as ctx:
        head = user(ctx, "qltdc.head")
        got = events(render(ctx, "qltdc.head", "person", head.id))
        items = {uid(i.id): i for i in ctx.session.scalars(sa.select(DueItem))}
        assert got  # the task QLTDC cooperates on
        for key in got:
            assert can(head, Action.VIEW, items[key].task)
        assert {items[k].task.ref for k in got} == {"2"}
        # the Office sees its whole organisation
        office = events(render(ctx, "vps.office", "person", user(ctx, "vps.office").id))
        assert {items[k].task.ref for k in office} == {"1", "2", "3", "5"}
        assert set(got) <= set(office)
        # another organisation's Office sees none of it
        other = user(ctx, "vinhtuy.office")
        assert events(render(ctx, "vinhtuy.office", "person", other.id)) == {}


def test_who_may_subscribe_to_what(plan):
    with plan.context() as ctx:
        s = ctx.session
        qlkhcn, vps, top = unit_id(ctx, "QLKHCN"), unit_id(ctx, "VPS"), unit_id(ctx, "LAICHAU")
        refused = [
            ("qlkhcn.head", "unit", vps),
            ("vinhtuy.office", "unit", qlkhcn),
            ("qlkhcn.head", "organisation", top),
            ("vps.office", "organisation", unit_id(ctx, "SKHCN")),  # not a top-level unit
            ("vinhtuy.office", "organisation", top),
            ("qlkhcn.head", "person", user(ctx, "vps.office").id),
        ]
        for username, scope, scope_id in refused:
            with pytest.raises(PermissionDenied):
                cal.feed_for(s, user(ctx, username), scope, scope_id)
        assert cal.feed_for(s, user(ctx, "vps.office"), "unit", qlkhcn)
        assert cal.feed_for(s, user(ctx, "laichau.leader"), "organisation", top)
        plan_id = task_by_ref(ctx, "test-plan", "1").plan_id
        assert cal.feed_for(s, user(ctx, "qltdc.head"), "plan", plan_id)  # takes part
        with pytest.raises(PermissionDenied):
            cal.feed_for(s, user(ctx, "vinhtuy.office"), "plan", plan_id)
        # a plan feed read by a unit holds only what that unit sees
        got = events(render(ctx, "qltdc.head", "plan", plan_id))
        items = {uid(i.id): i for i in s.scalars(sa.select(DueItem))}
        assert {items[k].task.ref for k in got} == {"2"}


def test_organisation_feed_holds_every_unit(plan):
    with plan.context() as ctx:
        got = events(render(ctx, "laichau.leader", "organisation", unit_id(ctx, "LAICHAU")))
        items = {uid(i.id): i for i in ctx.session.scalars(sa.select(DueItem))}
        assert {items[k].task.ref for k in got} >= {"1", "2", "3"}


def test_an_extension_keeps_the_uid_and_raises_the_sequence(plan):
    with plan.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        item = next(i for i in task.due_items if i.kind == "deadline")
        before = events(render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN")))[uid(item.id)]
        request = svc.request_extension(
            ctx,
            user(ctx, "qlkhcn.head"),
            task,
            reason="Chờ số liệu",
            period_key="deadline",
            proposed_date=date(2027, 2, 28),
        )
        request_id = request.id
    with plan.context() as ctx:
        svc.decide_extension(ctx, user(ctx, "vps.office"), request_id, grant=True)
    with plan.context() as ctx:
        after = events(render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN")))[uid(item.id)]
    assert int(after.sequence.value) > int(before.sequence.value)
    assert after.dtstart.value == date(2027, 3, 1)  # 28/2/2027 is a Sunday
    assert "Ngày theo văn bản: 31/12/2026" in after.description.value
    assert "Đã gia hạn đến: 28/02/2027" in after.description.value


def test_changing_the_timing_keeps_the_uid_and_raises_the_sequence(plan):
    with plan.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        item = next(i for i in task.due_items if i.kind == "deadline")
        before = events(render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN")))[uid(item.id)]
        svc.change_timing(ctx, user(ctx, "vps.office"), task, "15/01/2027")
    with plan.context() as ctx:
        after = events(render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN")))[uid(item.id)]
    assert int(after.sequence.value) > int(before.sequence.value)
    assert after.dtstart.value == date(2027, 1, 15)


def test_a_cancelled_task_is_sent_as_cancelled(plan):
    with plan.context() as ctx:
        svc.cancel_task(
            ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "1"), "Không còn phù hợp"
        )
    with plan.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        item = next(i for i in task.due_items if i.kind == "deadline")
        event = events(render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN")))[uid(item.id)]
    assert event.status.value == "CANCELLED"
    assert "valarm" not in event.contents  # nobody is reminded of a cancelled deadline


@contextmanager
def counting(session):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("tasks", [2, 12])
def test_a_feed_takes_a_fixed_number_of_queries(make_plan, engine, clock, tasks):
    clock.set(date(2026, 8, 25))
    rows = [[str(i), f"Nhiệm vụ {i}", QLKHCN, VPS, "Thường xuyên"] for i in range(1, tasks + 1)]
    make_plan(rows, regime="monthly:14", issued_on="2026-08-20")
    clock.set(TODAY)
    with engine.context() as ctx:
        office = user(ctx, "vps.office")
        top = unit_id(ctx, "LAICHAU")
        ctx.session.expunge_all()
        office = user(ctx, "vps.office")
        with counting(ctx.session) as statements:
            feed = cal.feed_for(ctx.session, office, "organisation", top)
            window = cal.Window.around(TODAY)
            raw = cal.build_feed(ctx.session, feed, window, BASE, ctx.rules)
            cal.feed_version(ctx.session, feed, window, BASE)
        assert len(events(raw)) >= tasks * 10
        assert len(statements) <= 8, statements


def test_the_version_changes_when_an_item_does(plan):
    with plan.context() as ctx:
        feed = cal.feed_for(ctx.session, user(ctx, "qlkhcn.head"), "unit", unit_id(ctx, "QLKHCN"))
        window = cal.Window.around(TODAY)
        first = cal.feed_version(ctx.session, feed, window, BASE)
        assert first.count == len(cal.due_items(ctx.session, feed, window))
        assert first.last_modified is not None
    with plan.context() as ctx:
        svc.cancel_task(
            ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "1"), "Không còn phù hợp"
        )
    with plan.context() as ctx:
        feed = cal.feed_for(ctx.session, user(ctx, "qlkhcn.head"), "unit", unit_id(ctx, "QLKHCN"))
        second = cal.feed_version(ctx.session, feed, window, BASE)
    assert second.etag != first.etag and second.last_modified > first.last_modified


# --- subscriptions -------------------------------------------------------------------------------


def test_a_subscription_is_a_hashed_token_that_can_be_regenerated_and_revoked(plan):
    with plan.context() as ctx:
        head = user(ctx, "qlkhcn.head")
        made = cal.subscribe(ctx.session, head, "unit", unit_id(ctx, "QLKHCN"), ctx.now())
        token, sub_id = made.token, made.subscription.id
        assert len(token) >= 43
        assert made.subscription.token_hash == cal.token_hash(token) != token
        with pytest.raises(PermissionDenied):
            cal.subscribe(ctx.session, head, "unit", unit_id(ctx, "VPS"), ctx.now())
    with plan.context() as ctx:
        stored = ctx.session.scalars(sa.select(CalendarSubscription.token_hash)).all()
        assert token not in stored
        feed = cal.resolve(ctx.session, token)
        assert feed is not None and feed.scope == "unit"
        assert cal.resolve(ctx.session, "not-a-token") is None
        assert [s.id for s in cal.subscriptions(ctx.session, user(ctx, "qlkhcn.head"))] == [sub_id]
        with pytest.raises(NotFound):  # only its owner may touch it
            cal.revoke(ctx.session, user(ctx, "vps.office"), sub_id, ctx.now())
        new = cal.regenerate(ctx.session, user(ctx, "qlkhcn.head"), sub_id, ctx.now()).token
    with plan.context() as ctx:
        assert cal.resolve(ctx.session, token) is None
        assert cal.resolve(ctx.session, new) is not None
        cal.revoke(ctx.session, user(ctx, "qlkhcn.head"), sub_id, ctx.now())
    with plan.context() as ctx:
        assert cal.resolve(ctx.session, new) is None
        assert cal.subscriptions(ctx.session, user(ctx, "qlkhcn.head")) == []


def test_a_token_stops_working_when_its_owner_may_no_longer_read_the_feed(plan):
    with plan.context() as ctx:
        head = user(ctx, "qlkhcn.head")
        token = cal.subscribe(ctx.session, head, "unit", unit_id(ctx, "QLKHCN"), ctx.now()).token
    with plan.context() as ctx:
        user(ctx, "qlkhcn.head").unit_id = unit_id(ctx, "VPS")  # moved to another unit
    with plan.context() as ctx:
        assert cal.resolve(ctx.session, token) is None


def _sequences(ctx, username: str, code: str) -> dict[str, int]:
    got = events(render(ctx, username, "unit", unit_id(ctx, code)))
    return {key: int(event.sequence.value) for key, event in got.items()}


def test_a_report_raises_the_sequence_of_the_tasks_events(plan):
    with plan.context() as ctx:
        before = _sequences(ctx, "qlkhcn.head", "QLKHCN")
        task = task_by_ref(ctx, "test-plan", "1")
        ids = {uid(i.id) for i in task.due_items}
        svc.submit_report(ctx, user(ctx, "qlkhcn.head"), task, text="Đã xong", progress=100)
    with plan.context() as ctx:
        after = _sequences(ctx, "qlkhcn.head", "QLKHCN")
    kept = before.keys() & after.keys()
    assert ids & kept
    for key in kept:  # the task's state is in its events' text; other tasks' stay as they were
        assert (after[key] > before[key]) == (key in ids), key


def test_a_plan_renumbered_on_import_raises_every_sequence(plan, make_plan):
    with plan.context() as ctx:
        before = _sequences(ctx, "vps.office", "QLKHCN")
    make_plan(ROWS, number="1/KH-SKHCN (sửa đổi)", regime="monthly:14", issued_on="2026-08-20")
    with plan.context() as ctx:
        got = events(render(ctx, "vps.office", "unit", unit_id(ctx, "QLKHCN")))
        after = {key: int(event.sequence.value) for key, event in got.items()}
        assert all("1/KH-SKHCN (sửa đổi)" in e.description.value for e in got.values())
    assert after.keys() == before.keys()
    assert all(after[key] > before[key] for key in after)


def test_the_window_follows_the_feeds_settings(plan):
    with plan.context() as ctx:
        settings = replace(ctx.settings, feed_days_back=7, feed_months_ahead=2)
        window = cal.Window.configured(settings, TODAY)
        assert window == cal.Window(date(2026, 11, 15), date(2027, 1, 22))
        feed = cal.feed_for(ctx.session, user(ctx, "vps.office"), "unit", unit_id(ctx, "QLKHCN"))
        dates = [i.due_date for i in cal.due_items(ctx.session, feed, window)]
        assert dates and all(window.start <= d <= window.end for d in dates)
        wider = cal.due_items(ctx.session, feed, cal.Window.configured(ctx.settings, TODAY))
        assert len(wider) > len(dates)


CANDIDATE_USERS = ("qlkhcn.head", "qltdc.head", "vps.office", "laichau.leader")


@pytest.mark.parametrize("username", [*CANDIDATE_USERS, "vinhtuy.office", "admin"])
def test_the_page_offers_exactly_the_feeds_one_may_read(plan, username):
    with plan.context() as ctx:
        s, reader = ctx.session, user(ctx, username)
        candidates = [
            *(("unit", i) for i in s.scalars(sa.select(Unit.id))),
            *(("organisation", i) for i in s.scalars(sa.select(Unit.id))),
            *(("plan", i) for i in s.scalars(sa.select(Plan.id))),
            *(("person", user(ctx, name).id) for name in CANDIDATE_USERS),
            ("person", reader.id),
        ]

        def readable(scope: str, scope_id: int) -> bool:
            try:
                cal.feed_for(s, reader, scope, scope_id)
            except PermissionDenied:
                return False
            return True

        offered = [(o.scope, o.scope_id) for o in cal.offered_feeds(s, reader)]
        assert len(offered) == len(set(offered))
        assert set(offered) == {c for c in candidates if readable(*c)}
        assert offered[0] == ("person", reader.id)


def test_a_feed_reuses_event_texts_until_something_they_show_changes(plan):
    with plan.context() as ctx:
        cal.EVENT_TEXTS.clear()
        made = cal.EVENT_TEXTS.made
        first = render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN"))
        written = cal.EVENT_TEXTS.made - made
        assert written == len(events(first))
        assert render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN")) == first
        assert cal.EVENT_TEXTS.made - made == written  # nothing written again
        office = render(ctx, "vps.office", "organisation", unit_id(ctx, "LAICHAU"))
        assert set(events(first)) < set(events(office))  # shared texts, more events
    with plan.context() as ctx:
        svc.change_timing(
            ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "1"), "15/01/2027"
        )
    with plan.context() as ctx:
        before = cal.EVENT_TEXTS.made
        after = render(ctx, "qlkhcn.head", "unit", unit_id(ctx, "QLKHCN"))
    assert after != first
    moved = cal.EVENT_TEXTS.made - before
    assert 1 <= moved < written  # the changed task's events only


def test_event_texts_stay_within_their_budget():
    texts = cal.EventTexts(max_bytes=100)
    for n in range(10):
        assert texts.get(("event", n), lambda n=n: b"x" * 30) == b"x" * 30
    assert texts.size <= 100
    assert texts.get(("event", 9), lambda: b"changed") == b"x" * 30  # kept: the newest
    assert texts.get(("event", 0), lambda: b"written again") == b"written again"  # gone
