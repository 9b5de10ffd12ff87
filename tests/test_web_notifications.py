"""The notification centre, the rules page, the escalation step on the overdue board and the
Office's list of e-mails not sent, through the web app (issue 6).

The interface is Vietnamese by default and these screens' words are not in the catalogs yet:
the tests read data (ids, numbers, data-* attributes, links), not wording.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import post_form, sign_in, task_by_ref, user
from tests.test_board_queries import counting
from workflow.config import PROJECT_ROOT
from workflow.escalation import sweep
from workflow.models import Notification, OutboxMessage, Unit

ROWS = [
    ["1", "Việc của Văn phòng Sở", "Văn phòng Sở", "", "10/2026"],
    ["2", "Việc của Phòng Quản lý", "Phòng Quản lý KH&CN", "", "10/2026"],
    ["3", "Việc chưa đến hạn", "Phòng Quản lý KH&CN", "", "6/2027"],
]
# QLKHCN's own rule: calendar days, one step two days after the date, to its head and the Office
QLKHCN_RULE = """
[escalation]
counting = "calendar"

[[escalation.steps]]
after = 2
to = ["unit_head", "office"]
"""
SWEPT_ON = date(2026, 11, 6)  # the deadlines (31/10, a Saturday) fall on Monday 2/11


@pytest.fixture
def settings(settings, tmp_path):
    """The shipped default rule and an override for QLKHCN, in a rules directory of the test."""
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(PROJECT_ROOT / "rules" / "default.toml", rules / "default.toml")
    (rules / "QLKHCN.toml").write_text(QLKHCN_RULE, encoding="utf-8")
    return dataclasses.replace(settings, rules_dir=rules)


@pytest.fixture
def swept(make_plan, engine, clock):
    """A plan started on 1/9/2026 whose two deadlines of October passed; swept on 6/11/2026."""
    clock.set(date(2026, 9, 1))
    make_plan(ROWS, issued_on="2026-08-20")
    clock.set(SWEPT_ON)
    with engine.context() as ctx:
        sweep(ctx)
    return engine


def signed_in(app, username: str):
    client = app.test_client()
    sign_in(client, username)
    return client


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return response.get_data(as_text=True)


def ids_of(name: str, html: str) -> list[int]:
    return [int(n) for n in re.findall(rf'data-{name}="(\d+)"', html)]


def unread_in_header(html: str) -> int:
    return int(re.search(r'id="unread"[^>]*data-unread="(\d+)"', html)[1])


def notifications_of(engine, username: str) -> dict[int, object]:
    """Each notification id of the user and when it was read."""
    with engine.context(write=False) as ctx:
        return dict(
            ctx.session.execute(
                sa.select(Notification.id, Notification.read_at).where(
                    Notification.user_id == user(ctx, username).id
                )
            ).all()
        )


# --- the notification centre --------------------------------------------------------------------


def test_the_centre_lists_only_ones_own_notices_newest_first(app, swept):
    office = notifications_of(swept, "vps.office")
    others = notifications_of(swept, "qlkhcn.head")
    assert len(office) >= 2 and others  # the sweep told both
    html = page(signed_in(app, "vps.office"), "/notifications")
    assert ids_of("notification", html) == sorted(office, reverse=True)  # one sweep: same time
    assert 'href="/tasks/' in html
    assert unread_in_header(html) == len(office)


def test_marking_read_changes_the_count_in_the_header(app, swept):
    client = signed_in(app, "vps.office")
    first, second, *_ = mine = sorted(notifications_of(swept, "vps.office"))
    theirs = notifications_of(swept, "qlkhcn.head")
    assert unread_in_header(page(client, "/calendars")) == len(mine)
    response = post_form(client, f"/notifications/{first}/read", form_page="/notifications")
    assert response.status_code == 302 and response.location.endswith("/notifications")
    assert unread_in_header(page(client, "/calendars")) == len(mine) - 1
    read = notifications_of(swept, "vps.office")
    assert read[first] is not None and read[second] is None
    html = page(client, "/notifications")
    assert f'data-notification="{first}" data-read="1"' in html
    assert f'data-notification="{second}" data-read="0"' in html

    post_form(client, "/notifications/read", form_page="/notifications")
    assert unread_in_header(page(client, "/calendars")) == 0
    assert all(read_at is not None for read_at in notifications_of(swept, "vps.office").values())
    assert notifications_of(swept, "qlkhcn.head") == theirs  # another's notices stay unread


def test_someone_elses_notification_is_not_found_and_stays_unread(app, swept):
    theirs = notifications_of(swept, "qlkhcn.head")
    one = min(theirs)
    for username in ("vps.office", "admin"):
        client = signed_in(app, username)
        response = post_form(client, f"/notifications/{one}/read", form_page="/notifications")
        assert response.status_code == 404
        assert one not in ids_of("notification", page(client, "/notifications"))
    assert notifications_of(swept, "qlkhcn.head") == theirs
    assert all(read_at is None for read_at in theirs.values())


def test_marking_read_needs_the_form_token(app, swept):
    mine = notifications_of(swept, "qlkhcn.head")
    client = signed_in(app, "qlkhcn.head")
    assert client.post(f"/notifications/{min(mine)}/read").status_code == 400
    assert client.post("/notifications/read").status_code == 400
    assert notifications_of(swept, "qlkhcn.head") == mine


def test_the_unread_count_costs_one_query_and_none_for_anonymous(app, swept):
    client = signed_in(app, "vps.office")
    with counting(swept) as seen:
        page(client, "/calendars")
    assert len([s for s in seen if "notifications" in s]) == 1
    with counting(swept) as seen:
        html = page(app.test_client(), "/login")
    assert not [s for s in seen if "notifications" in s]
    assert 'id="unread"' not in html


def test_the_centre_pages(app, swept):
    app.config["NHIEMVU_PER_PAGE"] = 1
    client = signed_in(app, "vps.office")
    newest, second, *_ = sorted(notifications_of(swept, "vps.office"), reverse=True)
    assert ids_of("notification", page(client, "/notifications")) == [newest]
    assert ids_of("notification", page(client, "/notifications?page=2")) == [second]
    response = post_form(
        client, f"/notifications/{second}/read", {"page": "2"}, form_page="/notifications?page=2"
    )
    assert response.location.endswith("/notifications?page=2")
    assert notifications_of(swept, "vps.office")[second] is not None


# --- the rules ----------------------------------------------------------------------------------


def unit_ids(engine, *codes: str) -> dict[str, int]:
    with engine.context(write=False) as ctx:
        query = sa.select(Unit.code, Unit.id).where(Unit.code.in_(codes))
        return {code: unit for code, unit in ctx.session.execute(query)}


def section(html: str, rule: str) -> str:
    found = re.search(rf'<section[^>]*data-rule="{re.escape(rule)}".*?</section>', html, re.S)
    assert found, rule
    return found[0]


@pytest.mark.parametrize("username", ["qlkhcn.head", "qlkhcn.delegate", "skhcn.director"])
def test_the_rules_page_lists_the_default_and_the_override_with_their_units(
    app, organisation, username
):
    units = unit_ids(organisation, "QLKHCN", "VPS", "VHXH")
    html = page(signed_in(app, username), "/rules")
    assert 'href="/rules"' in html  # in the navigation
    default, override = section(html, "default.toml"), section(html, "QLKHCN.toml")
    assert units["VPS"] in ids_of("unit", default)
    assert units["QLKHCN"] not in ids_of("unit", default)
    assert ids_of("unit", override) == [units["QLKHCN"]]
    assert units["VHXH"] not in ids_of("unit", html)  # another organisation's unit
    assert re.findall(r'data-after="(\d+)" data-to="([a-z_ ]+)"', default) == [
        ("1", "unit_head"),
        ("3", "office"),
        ("10", "leadership"),
    ]
    assert re.findall(r'data-after="(\d+)" data-to="([a-z_ ]+)"', override) == [
        ("2", "unit_head office")
    ]
    assert 'data-days="7,1"' in default and 'data-days="7,1"' in override  # inherited
    assert 'data-deadline-days="30" data-ask-every="30"' in override
    assert override.count('class="differs"') == 1 and 'class="differs"' not in default


def test_an_administrator_sees_every_organisations_units(app, organisation):
    units = unit_ids(organisation, "VHXH")
    html = page(signed_in(app, "admin"), "/rules")
    assert units["VHXH"] in ids_of("unit", section(html, "default.toml"))


def test_the_rules_page_needs_signing_in(client, organisation):
    response = client.get("/rules")
    assert response.status_code == 302 and "/login" in response.location


# --- the overdue board: each item's latest escalation step --------------------------------------


def overdue_rows(html: str) -> dict[int, str]:
    """Each row of the drill-down by due item id, its escalation cell's markup."""
    rows = re.findall(r'<tr data-task="\d+" data-item="(\d+)">(.*?)</tr>', html, re.S)
    return {int(item): row for item, row in rows}


def deadline_of(engine, ref: str) -> int:
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        return next(i.id for i in task.due_items if i.kind == "deadline")


def test_the_drill_down_shows_each_items_latest_step(app, swept):
    units = unit_ids(swept, "VPS", "QLKHCN")
    client = signed_in(app, "skhcn.director")
    with counting(swept) as seen:
        vps = overdue_rows(page(client, f"/board/unit/{units['VPS']}?as_of=2026-11-06"))
    assert len([s for s in seen if "FROM escalations" in s]) == 1  # one query for the page
    # the default rule: 1 and 3 working days after Monday 2/11 have come, 10 has not
    assert 'data-after="3" data-to="office" data-on="2026-11-06"' in vps[deadline_of(swept, "1")]
    assert "06/11/2026" in vps[deadline_of(swept, "1")]

    qlkhcn = overdue_rows(page(client, f"/board/unit/{units['QLKHCN']}?as_of=2026-11-06"))
    assert list(qlkhcn) == [deadline_of(swept, "2")]  # task 3 is not due yet
    assert 'data-after="2" data-to="unit_head office"' in qlkhcn[deadline_of(swept, "2")]


def test_a_later_sweep_moves_the_step_and_an_item_never_escalated_shows_none(
    app, swept, clock, make_plan
):
    clock.set(SWEPT_ON + timedelta(days=16))
    with swept.context() as ctx:
        sweep(ctx)
    units = unit_ids(swept, "VPS")
    html = page(signed_in(app, "vps.office"), f"/board/unit/{units['VPS']}?as_of=2026-12-30")
    row = overdue_rows(html)[deadline_of(swept, "1")]
    assert 'data-after="10" data-to="leadership" data-on="2026-11-22"' in row
    assert 'class="escalation"' not in html.replace(row, "")  # nothing else was escalated


# --- e-mail not sent --------------------------------------------------------------------------


@pytest.fixture
def outbox(organisation, clock):
    """E-mails to people of both organisations, in every state; their ids by name."""
    now = clock.now()
    made = {}
    cases = {  # name: (recipient, status, attempts, minutes ago)
        "failed": ("qlkhcn.head", "failed", 5, 30),
        "retrying": ("vps.head", "pending", 2, 10),
        "waiting": ("vps.head", "pending", 0, 5),
        "sent": ("qlkhcn.head", "sent", 1, 40),
        "elsewhere": ("vhxh.head", "failed", 5, 20),
    }
    with organisation.context() as ctx:
        for name, (username, status, attempts, ago) in cases.items():
            at = now - timedelta(minutes=ago)
            notice = Notification(
                key=f"test:{name}",
                user=user(ctx, username),
                kind="escalation",
                subject=f"Thông báo {name}",
                body="Nội dung",
                created_at=at,
            )
            message = OutboxMessage(
                notification=notice,
                message_id=f"<{name}@nhiemvu>",
                to_address=f"{username}@example.gov.vn",
                subject=f"Thư {name}",
                text_body="Nội dung",
                html_body="<p>Nội dung</p>",
                status=status,
                attempts=attempts,
                created_at=at,
                next_attempt_at=now + timedelta(minutes=15),
                last_error=f"550 hộp thư {name} không tồn tại" if attempts else "",
            )
            ctx.session.add_all([notice, message])
            ctx.session.flush()
            made[name] = message.id
        orphan = OutboxMessage(
            message_id="<orphan@nhiemvu>",
            to_address="ai.do@example.gov.vn",
            subject="Thư không gắn thông báo",
            text_body="",
            html_body="",
            status="failed",
            attempts=5,
            created_at=now - timedelta(minutes=1),
            next_attempt_at=now,
            last_error="timed out",
        )
        ctx.session.add(orphan)
        ctx.session.flush()
        made["orphan"] = orphan.id
    return made


def test_the_office_sees_its_organisations_mail_not_sent_newest_first(app, outbox):
    client = signed_in(app, "vps.office")
    html = page(client, "/office/mail")
    assert ids_of("message", html) == [outbox["retrying"], outbox["failed"]]
    assert "550 hộp thư failed không tồn tại" in html
    assert f'data-message="{outbox["failed"]}" data-status="failed"' in html
    assert "qlkhcn.head@example.gov.vn" in html
    assert 'data-undelivered="2"' in page(client, "/office")


def test_another_organisations_office_sees_only_its_own(app, outbox):
    html = page(signed_in(app, "vinhtuy.office"), "/office/mail")
    assert ids_of("message", html) == [outbox["elsewhere"]]


def test_an_administrator_sees_every_message_not_sent(app, outbox):
    html = page(signed_in(app, "admin"), "/office/mail")
    expected = ["orphan", "retrying", "elsewhere", "failed"]
    assert ids_of("message", html) == [outbox[name] for name in expected]


@pytest.mark.parametrize("username", ["qlkhcn.head", "qlkhcn.delegate", "skhcn.director"])
def test_mail_not_sent_is_refused_to_everyone_else(app, outbox, username):
    html = page(signed_in(app, username), "/office/mail", status=403)
    assert "550" not in html and not ids_of("message", html)
