"""The Calendars page and the feeds it hands out, through the web app (issue 5).

Feeds are read back with ``vobject``, a parser independent of the ``icalendar`` that wrote
them, and fetched the way a calendar client does: no session, conditional requests.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
import vobject

from tests import test_calendars
from tests.conftest import post_form, sign_in, task_by_ref, user
from workflow import administration
from workflow import tasks as svc
from workflow.context import Engine
from workflow.models import CalendarSubscription, DueItem, Task, Unit

plan = test_calendars.plan  # the fixture: a plan of four units' tasks, read on 22/11/2026
FEED_URL = re.compile(r'id="feed-url" value="(http://localhost/calendar/([^"]+)\.ics)"')


def unit_id(engine, code: str) -> int:
    with engine.context(write=False) as ctx:
        return ctx.session.scalar(sa.select(Unit.id).where(Unit.code == code))


def subscribe(client, feed: str) -> tuple[str, str]:
    """Make a subscription from the Calendars page; its address and token."""
    response = post_form(client, "/calendars", {"feed": feed})
    assert response.status_code == 200, response.get_data(as_text=True)
    found = FEED_URL.search(response.get_data(as_text=True))
    assert found, "the new address is shown"
    return found[1], found[2]


WINDOW = (date(2026, 9, 23), date(2028, 2, 22))  # a feed's default, read on 22/11/2026


def items(engine, *where) -> set[int]:
    """The ids of the due items of tasks matching ``where`` in a feed's default window."""
    with engine.context(write=False) as ctx:
        return set(
            ctx.session.scalars(
                sa.select(DueItem.id).join(Task).where(DueItem.due_date.between(*WINDOW), *where)
            )
        )


def led_by(engine, code: str):
    return Task.unit_links.any(role="lead", unit_id=unit_id(engine, code))


def parsed(response):
    return vobject.readOne(response.get_data(as_text=True))


def events(response) -> dict[int, object]:
    cal = parsed(response)
    return {int(e.uid.value.split("@")[0][4:]): e for e in cal.contents.get("vevent", [])}


@pytest.fixture
def head(app, plan):
    client = app.test_client()
    sign_in(client, "qlkhcn.head")
    return client


def test_a_unit_head_subscribes_and_a_client_reads_exactly_the_units_deadlines(app, plan, head):
    page = head.get("/calendars").get_data(as_text=True)
    assert f'value="unit:{unit_id(plan, "QLKHCN")}"' in page
    assert f'value="unit:{unit_id(plan, "VPS")}"' not in page  # not a unit they may read
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")

    feed = app.test_client().get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Content-Encoding" not in feed.headers  # Outlook breaks on compressed feeds
    assert "Set-Cookie" not in feed.headers
    assert feed.headers["Cache-Control"] == "private, no-cache"
    got = events(feed)
    assert set(got) == items(plan, led_by(plan, "QLKHCN"))
    texts = [e.summary.value + e.description.value for e in got.values()]
    assert any("Xây dựng đề án chuyển đổi số" in t for t in texts)  # diacritics intact
    assert all("Phòng Quản lý Khoa học và Công nghệ" in t for t in texts)
    assert all(e.url.value.startswith("http://localhost/tasks/") for e in got.values())


def test_the_address_is_shown_once(plan, head):
    _url, token = subscribe(head, f"person:{_user_id(plan, 'qlkhcn.head')}")
    page = head.get("/calendars").get_data(as_text=True)
    assert token not in page
    assert "Mọi hạn tôi theo dõi" in page  # "every deadline I follow": offered again
    with plan.context(write=False) as ctx:
        stored = ctx.session.scalar(sa.select(CalendarSubscription))
        assert stored.token_hash != token and token not in stored.token_hash


def _user_id(engine, username: str) -> int:
    with engine.context(write=False) as ctx:
        return user(ctx, username).id


def test_a_conditional_request_gets_304_until_something_changes(app, plan, head):
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304

    with plan.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        deadline = next(i for i in task.due_items if i.kind == "deadline")
        before = int(events(first)[deadline.id].sequence.value)
        svc.change_timing(ctx, user(ctx, "vps.office"), task, "15/01/2027")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    event = events(changed)[deadline.id]
    assert event.dtstart.value == date(2027, 1, 15)
    assert int(event.sequence.value) > before


def test_head_answers_like_get_without_a_body(app, plan, head):
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    got, headed = client.get(url), client.head(url)
    assert headed.status_code == 200 and headed.data == b""
    assert headed.headers["ETag"] == got.headers["ETag"]
    assert headed.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_renaming_the_lead_unit_reaches_subscribed_clients(app, plan, head):
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    first = client.get(url)
    with plan.context() as ctx:
        administration.rename_unit(
            ctx, user(ctx, "admin"), unit_id(plan, "QLKHCN"), "Phòng Khoa học và Đổi mới sáng tạo"
        )
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    before, after = events(first), events(second)
    assert set(before) == set(after)
    for key, event in after.items():
        assert "Phòng Khoa học và Đổi mới sáng tạo" in event.summary.value
        assert int(event.sequence.value) > int(before[key].sequence.value)


def test_revoked_regenerated_and_unknown_addresses(app, plan, head):
    url, token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    with plan.context(write=False) as ctx:
        sub_id = ctx.session.scalar(sa.select(CalendarSubscription.id))
    response = post_form(head, f"/calendars/{sub_id}/regenerate", form_page="/calendars")
    new_url, new_token = FEED_URL.search(response.get_data(as_text=True)).groups()
    assert new_token != token
    assert client.get(url).status_code == 404
    assert client.get(new_url).status_code == 200
    revoked = post_form(head, f"/calendars/{sub_id}/revoke", form_page="/calendars")
    assert revoked.status_code == 302
    assert client.get(new_url).status_code == 404
    assert client.head(new_url).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get(f"/calendar/.ics?token={new_token}").status_code == 404
    assert "Chưa có." in head.get("/calendars").get_data(as_text=True)  # nothing listed


def test_someone_elses_subscription_cannot_be_touched(app, plan, head):
    subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    with plan.context(write=False) as ctx:
        sub_id = ctx.session.scalar(sa.select(CalendarSubscription.id))
    office = app.test_client()
    sign_in(office, "vps.office")
    for action in ("regenerate", "revoke"):
        response = post_form(office, f"/calendars/{sub_id}/{action}", form_page="/calendars")
        assert response.status_code == 404
    with plan.context(write=False) as ctx:
        assert ctx.session.get(CalendarSubscription, sub_id).revoked_at is None


@pytest.mark.parametrize(
    ("feed", "status"),
    [("unit:{VPS}", 403), ("person:{office}", 403), ("unit:abc", 400), ("week:1", 400)],
)
def test_a_feed_one_may_not_read_is_refused_and_nothing_is_stored(plan, head, feed, status):
    value = feed.format(VPS=unit_id(plan, "VPS"), office=_user_id(plan, "vps.office"))
    response = post_form(head, "/calendars", {"feed": value}, form_page="/calendars")
    assert response.status_code == status
    if status == 400:
        assert "Lịch: Không phải là một lịch." in response.get_data(as_text=True)
    with plan.context(write=False) as ctx:
        assert ctx.session.scalar(sa.select(sa.func.count(CalendarSubscription.id))) == 0


def test_a_task_downloads_as_a_file_of_its_own_due_items(app, plan, head):
    with plan.context(write=False) as ctx:
        mine = task_by_ref(ctx, "test-plan", "3")
        theirs = task_by_ref(ctx, "test-plan", "2").id
        mine, expected = mine.id, {i.id for i in mine.due_items}
    page = head.get(f"/tasks/{mine}").get_data(as_text=True)
    assert f'href="/tasks/{mine}/calendar.ics"' in page
    response = head.get(f"/tasks/{mine}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="nhiemvu-{mine}.ics"'
    assert set(events(response)) == expected  # every item, not only the window's
    assert len(expected) > len(items(plan, Task.id == mine))
    assert head.get(f"/tasks/{theirs}/calendar.ics").status_code == 403


def test_the_office_subscribes_to_a_plan_from_its_page(app, plan):
    office = app.test_client()
    sign_in(office, "vps.office")
    with plan.context(write=False) as ctx:
        plan_id = task_by_ref(ctx, "test-plan", "1").plan_id
    response = post_form(office, "/calendars", {"feed": f"plan:{plan_id}"}, "/plans/test-plan")
    url = FEED_URL.search(response.get_data(as_text=True))[1]
    got = events(app.test_client().get(url))
    assert set(got) == items(plan, Task.plan_id == plan_id)


def test_public_url_sets_the_links_of_a_feed(app, plan, head):
    app.config["PUBLIC_URL"] = "https://nhiemvu.laichau.gov.vn/"
    response = post_form(head, "/calendars", {"feed": f"unit:{unit_id(plan, 'QLKHCN')}"})
    page = response.get_data(as_text=True)
    found = re.search(r'value="https://nhiemvu\.laichau\.gov\.vn/calendar/([^"]+)\.ics"', page)
    assert found
    assert f'href="webcal://nhiemvu.laichau.gov.vn/calendar/{found[1]}.ics"' in page
    feed = app.test_client().get(f"/calendar/{found[1]}.ics")
    for event in events(feed).values():
        assert event.url.value.startswith("https://nhiemvu.laichau.gov.vn/tasks/")
        assert event.uid.value.endswith("@nhiemvu.laichau.gov.vn")


def test_a_change_made_through_another_engine_reaches_a_feed_at_once(app, plan, head):
    """The 304 is kept per process under the stamp (stamp_cache); a change committed through
    other connections, as another process makes it, changes the stamp by trigger."""
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    elsewhere = Engine(plan.settings, plan.clock)
    try:
        with elsewhere.context() as ctx:
            task = task_by_ref(ctx, "test-plan", "1")
            svc.change_timing(ctx, user(ctx, "vps.office"), task, "20/01/2027")
    finally:
        elsewhere.close()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"20270120" in changed.data
    assert client.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_a_304_reads_no_due_item_while_nothing_changed(app, plan, head):
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    etag = client.get(url).headers["ETag"]
    client.get(url, headers={"If-None-Match": etag})
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(plan.database.engine, "before_cursor_execute", seen)
    try:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    finally:
        sa.event.remove(plan.database.engine, "before_cursor_execute", seen)
    assert any("board_stamps" in s for s in statements)
    assert not any("due_items" in s for s in statements), statements


def test_a_reader_moved_to_another_unit_gets_the_feed_they_may_now_read(app, plan):
    """The Office's person feed follows their organisation; moved into a unit of their own,
    the same address shows only what that unit may see — no stale 304."""
    office = app.test_client()
    sign_in(office, "vps.office")
    with plan.context(write=False) as ctx:
        me_id = user(ctx, "vps.office").id
    url, _token = subscribe(office, f"person:{me_id}")
    client = app.test_client()
    first = client.get(url)
    etag = first.headers["ETag"]
    before = set(events(first))
    with plan.context() as ctx:
        moved = user(ctx, "vps.office")
        moved.role = "unit_head"
        moved.unit_id = unit_id(plan, "QLKHCN")
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert set(events(after)) == items(plan, led_by(plan, "QLKHCN")) | items(
        plan, Task.unit_links.any(unit_id=unit_id(plan, "QLKHCN"))
    )
    assert set(events(after)) < before
