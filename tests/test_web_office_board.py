"""The Office screen and the overdue board, through the Flask test client."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html import unescape

import pytest
import sqlalchemy as sa

from tests.conftest import post_form, sign_in, task_by_ref, user
from workflow import tasks as svc
from workflow.classify import DueClass
from workflow.models import DueItem, ExtensionRequest, Report, Task, TaskEvent, TriggerDocument
from workflow.queries import summary

ROWS = [
    ["1", "Việc đã quá hạn", "Văn phòng Sở", "", "6/2026"],
    ["2", "Việc chưa đến hạn", "Phòng Quản lý KH&CN", "", "3/2027"],
    ["3", "Chờ hướng dẫn A", "Văn phòng Sở", "", "Sau khi có hướng dẫn của Trung ương"],
    ["4", "Chờ hướng dẫn B", "Phòng Quản lý KH&CN", "", "Sau khi có hướng dẫn của UBND tỉnh"],
]
TODAY = date(2026, 11, 22)


@pytest.fixture
def seeded(make_plan, engine, clock):
    """A Lai Châu plan started on 1 Sep 2026 with monthly reports; today is 22 Nov 2026."""
    clock.set(date(2026, 9, 1))
    make_plan(ROWS, regime="monthly:14", issued_on="2026-08-20")
    clock.set(TODAY)
    return engine


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def submit(engine, ref: str, username: str, progress: int = 100) -> int:
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        return svc.submit_report(
            ctx, user(ctx, username), task, text="Đã hoàn thành", progress=progress
        ).id


def version(engine, ref: str) -> int:
    with engine.context() as ctx:
        return task_by_ref(ctx, "test-plan", ref).version


def snapshot(engine) -> tuple:
    """Everything an Office action could change."""
    with engine.context() as ctx:
        s = ctx.session
        return (
            tuple(s.execute(sa.select(Report.id, Report.status).order_by(Report.id))),
            tuple(s.execute(sa.select(Task.id, Task.status, Task.version).order_by(Task.id))),
            tuple(
                s.execute(
                    sa.select(DueItem.id, DueItem.status, DueItem.due_date).order_by(DueItem.id)
                )
            ),
            tuple(s.execute(sa.select(ExtensionRequest.id, ExtensionRequest.status))),
            s.scalar(sa.select(sa.func.count()).select_from(TaskEvent)),
            s.scalar(sa.select(sa.func.count()).select_from(TriggerDocument)),
        )


def rows_of(page: str, attribute: str) -> list[str]:
    return re.findall(rf'data-{attribute}="(\d+)"', page)


# --- the Office screen ---------------------------------------------------------------------------


def test_office_accepts_a_report_and_the_task_closes(seeded, english):
    report_id = submit(seeded, "1", "vps.head")
    sign_in(english, "vps.office")
    page = english.get("/office")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert rows_of(html, "report") == [str(report_id)]
    assert "Việc đã quá hạn" in html and "Văn phòng Sở" in html
    assert "September 2026" in html and "tháng 9/2026" not in html  # the period, in English
    response = post_form(
        english,
        f"/office/reports/{report_id}/accept",
        {"note": "Tốt", "version": version(seeded, "1")},
        form_page="/office",
    )
    assert response.status_code == 302
    with seeded.context() as ctx:
        assert ctx.session.get(Report, report_id).status == "accepted"
        assert task_by_ref(ctx, "test-plan", "1").status == "closed"
    assert rows_of(english.get("/office").get_data(as_text=True), "report") == []


def test_a_stale_version_is_a_conflict_and_changes_nothing(seeded, english):
    report_id = submit(seeded, "1", "vps.head")
    sign_in(english, "vps.office")
    before = snapshot(seeded)
    response = post_form(
        english,
        f"/office/reports/{report_id}/accept",
        {"version": version(seeded, "1") - 1},
        form_page="/office",
    )
    assert response.status_code == 409
    assert snapshot(seeded) == before


def test_office_returns_a_report_with_a_reason_and_the_due_item_is_owed_again(seeded, english):
    report_id = submit(seeded, "2", "qlkhcn.head", progress=40)
    sign_in(english, "hcqt.office")
    before = snapshot(seeded)
    empty = post_form(
        english,
        f"/office/reports/{report_id}/return",
        {"reason": "  ", "version": version(seeded, "2")},
        form_page="/office",
    )
    assert empty.status_code == 400
    assert snapshot(seeded) == before
    response = post_form(
        english,
        f"/office/reports/{report_id}/return",
        {"reason": "Thiếu số liệu", "version": version(seeded, "2")},
        form_page="/office",
    )
    assert response.status_code == 302
    with seeded.context() as ctx:
        report = ctx.session.get(Report, report_id)
        assert (report.status, report.review_note) == ("returned", "Thiếu số liệu")
        item = ctx.session.scalar(
            sa.select(DueItem).where(
                DueItem.period_key == "2026-09", DueItem.task_id == report.task_id
            )
        )
        assert item.status == "open" and item.report_id is None
        assert task_by_ref(ctx, "test-plan", "2").status == "in_progress"


def _request_extension(engine, ref: str, username: str, proposed: date | None) -> int:
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        return svc.request_extension(
            ctx,
            user(ctx, username),
            task,
            reason="Chờ số liệu",
            period_key="deadline",
            proposed_date=proposed,
        ).id


def test_office_grants_and_refuses_extensions(seeded, english):
    granted = _request_extension(seeded, "2", "qlkhcn.head", date(2027, 6, 30))
    refused = _request_extension(seeded, "1", "vps.head", date(2027, 1, 31))
    sign_in(english, "vps.office")
    html = english.get("/office").get_data(as_text=True)
    assert rows_of(html, "request") == [str(granted), str(refused)]
    assert 'value="30/06/2027"' in html  # the proposed date is the default
    response = post_form(
        english,
        f"/office/extensions/{granted}/grant",
        {"new_date": "2027-06-30"},
        form_page="/office",
    )
    assert response.status_code == 302
    before = snapshot(seeded)
    empty = post_form(english, f"/office/extensions/{refused}/refuse", {"reason": ""}, "/office")
    assert empty.status_code == 400 and snapshot(seeded) == before
    response = post_form(
        english, f"/office/extensions/{refused}/refuse", {"reason": "Không đủ căn cứ"}, "/office"
    )
    assert response.status_code == 302
    with seeded.context() as ctx:
        assert ctx.session.get(ExtensionRequest, granted).status == "granted"
        assert ctx.session.get(ExtensionRequest, refused).status == "refused"
        deadline = ctx.session.get(ExtensionRequest, granted).due_item
        assert (deadline.original_due_date, deadline.due_date) == (
            date(2027, 3, 31),
            date(2027, 6, 30),
        )
    assert rows_of(english.get("/office").get_data(as_text=True), "request") == []


def test_the_office_types_dates_the_vietnamese_way(seeded, english):
    request_id = _request_extension(seeded, "2", "qlkhcn.head", None)
    sign_in(english, "vps.office")
    before = snapshot(seeded)
    bad = post_form(
        english, f"/office/extensions/{request_id}/grant", {"new_date": "31/02/2027"}, "/office"
    )
    assert bad.status_code == 400 and snapshot(seeded) == before
    page = unescape(bad.get_data(as_text=True))
    assert "New due date: '31/02/2027' is not a date (dd/mm/yyyy)" in page
    assert 'value="31/02/2027"' in page  # what was typed, shown again
    good = post_form(
        english, f"/office/extensions/{request_id}/grant", {"new_date": "30/6/2027"}, "/office"
    )
    assert good.status_code == 302
    with seeded.context() as ctx:
        assert ctx.session.get(ExtensionRequest, request_id).granted_date == date(2027, 6, 30)
    with seeded.context() as ctx:
        waiting = task_by_ref(ctx, "test-plan", "3").id
    trigger = {"number": "7/HD", "issued_on": "2/11/2026", "issuer": "Bộ", "tasks": [waiting]}
    assert post_form(english, "/office/triggers", trigger, "/office").status_code == 302
    with seeded.context() as ctx:
        document = ctx.session.scalars(sa.select(TriggerDocument)).one()
        assert document.issued_on == date(2026, 11, 2)


def test_waiting_tasks_show_days_waited_and_a_trigger_releases_two(seeded, english):
    sign_in(english, "vps.office")
    html = english.get("/office").get_data(as_text=True)
    with seeded.context() as ctx:
        ids = [task_by_ref(ctx, "test-plan", ref).id for ref in ("3", "4")]
    assert sorted(rows_of(html, "task")) == sorted(str(i) for i in ids)
    assert ">82<" in html  # started 1 Sep 2026, today 22 Nov 2026
    assert "Trung ương" in html and "UBND tỉnh" in html
    before = snapshot(seeded)
    missing_tasks = post_form(
        english,
        "/office/triggers",
        {"number": "12/HD-BKHCN", "issued_on": "2026-11-02", "issuer": "Bộ KH&CN"},
        form_page="/office",
    )
    future = post_form(
        english,
        "/office/triggers",
        {"number": "12/HD-BKHCN", "issued_on": "2027-01-02", "issuer": "Bộ KH&CN", "tasks": ids},
        form_page="/office",
    )
    assert (missing_tasks.status_code, future.status_code) == (400, 400)
    assert snapshot(seeded) == before
    response = post_form(
        english,
        "/office/triggers",
        {
            "number": "12/HD-BKHCN",
            "issued_on": "2026-11-02",
            "issuer": "Bộ Khoa học và Công nghệ",
            "title": "Hướng dẫn thực hiện",
            "tasks": ids,
        },
        form_page="/office",
    )
    assert response.status_code == 302
    with seeded.context() as ctx:
        for task_id in ids:
            task = ctx.session.get(Task, task_id)
            assert task.status == "in_progress"
            assert task.trigger_document.number == "12/HD-BKHCN"
            deadline = ctx.session.scalar(
                sa.select(DueItem).where(DueItem.task_id == task_id, DueItem.kind == "deadline")
            )
            assert deadline.nominal_date == date(2026, 12, 2)  # 30 days after 2 Nov 2026
    assert rows_of(english.get("/office").get_data(as_text=True), "task") == []


def test_missing_reports_are_grouped_by_lead_unit(seeded, english):
    submit(seeded, "2", "qlkhcn.head", progress=30)  # the September report of QLKHCN arrives
    sign_in(english, "vps.office")
    html = english.get("/office").get_data(as_text=True)
    table = html[html.index('id="missing-table"') :]
    found = re.findall(
        r'<a href="/board/unit/\d+\?kind=reports">([^<]+)</a></td>\s*<td class="num late">(\d+)<',
        table,
    )
    assert found == [("Văn phòng Sở", "3"), ("Phòng Quản lý Khoa học và Công nghệ", "2")]


# --- the overdue board ---------------------------------------------------------------------------


def board_table(html: str, table: str, attribute: str) -> dict[str, dict[str, int]]:
    """{row id: {class: count, "days": days late}} of a table of the board."""
    part = html[html.index(f'id="{table}"') :]
    part = part[: part.index("</table>")]
    result: dict[str, dict[str, int]] = {}
    for row in re.findall(rf'<tr data-{attribute}="(\d+)">(.*?)</tr>', part, re.S):
        key, body = row
        counts = {
            c: int(n)
            for c, n in re.findall(
                r'data-class="(\w+)"><span class="label-sm">[^<]*</span>(\d+)', body
            )
        }
        counts["days"] = int(re.search(r'data-days="(\d+)"', body)[1])
        result[key] = counts
    return result


def by_name(engine, as_of: date) -> dict[str, dict[str, int]]:
    with engine.context() as ctx:
        return {
            name: {c.value: n for c, n in classes.items()}
            for name, classes in summary(ctx.session, as_of).items()
        }


def unit_ids(engine) -> dict[str, str]:
    from workflow.models import Unit

    with engine.context() as ctx:
        return {str(i): n for i, n in ctx.session.execute(sa.select(Unit.id, Unit.name))}


def test_the_board_counts_per_unit_and_per_plan_and_follows_an_acceptance(seeded, english):
    as_of = date(2026, 11, 20)
    sign_in(english, "skhcn.director")
    html = english.get(f"/board?as_of={as_of.isoformat()}").get_data(as_text=True)
    units = board_table(html, "units-table", "unit")
    names = unit_ids(seeded)
    expected = by_name(seeded, as_of)
    assert {
        names[k]: {c: v for c, v in row.items() if c != "days"} for k, row in units.items()
    } == expected
    vps = next(row for k, row in units.items() if names[k] == "Văn phòng Sở")
    assert vps["overdue"] == 1 and vps["days"] == (as_of - date(2026, 6, 30)).days
    plans = board_table(html, "plans-table", "plan")
    assert [{c: v for c, v in row.items() if c != "days"} for row in plans.values()] == [
        {"completed_on_time": 0, "completed_late": 0, "not_yet_due": 1, "overdue": 1}
    ]

    report_id = submit(seeded, "1", "vps.head")
    office = english.application.test_client()
    sign_in(office, "vps.office")
    post_form(
        office,
        f"/office/reports/{report_id}/accept",
        {"version": version(seeded, "1")},
        form_page="/office",
    )
    after = board_table(english.get("/board").get_data(as_text=True), "plans-table", "plan")
    assert [row["overdue"] for row in after.values()] == [0]
    assert [row["completed_late"] for row in after.values()] == [1]
    assert [row["days"] for row in after.values()] == [0]


def test_drill_down_lists_a_units_overdue_items(seeded, english):
    sign_in(english, "skhcn.director")
    names = {v: k for k, v in unit_ids(seeded).items()}
    vps = names["Văn phòng Sở"]
    html = english.get(f"/board/unit/{vps}?as_of=2026-11-22").get_data(as_text=True)
    with seeded.context() as ctx:
        task_id = task_by_ref(ctx, "test-plan", "1").id
    assert rows_of(html, "task") == [str(task_id)]
    reports = english.get(f"/board/unit/{vps}?kind=reports").get_data(as_text=True)
    assert rows_of(reports, "task") == [str(task_id)] * 3
    qlkhcn = names["Phòng Quản lý Khoa học và Công nghệ"]
    assert rows_of(english.get(f"/board/unit/{qlkhcn}").get_data(as_text=True), "task") == []
    assert english.get("/board/unit/999999").status_code == 404


def test_the_csv_export_has_the_numbers_of_the_board(seeded, english):
    sign_in(english, "skhcn.director")
    html = english.get("/board?as_of=2026-11-22&kind=all").get_data(as_text=True)
    shown = board_table(html, "units-table", "unit")
    response = english.get("/board.csv?as_of=2026-11-22&kind=all")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["As of", "2026-11-22"]
    names = unit_ids(seeded)
    exported = {
        r[2]: [int(n) for n in r[3:7]] + [int(r[8])] for r in rows[2:] if r[0] == "Lead unit"
    }
    assert exported == {
        names[k]: [row[c.value] for c in DueClass] + [row["days"]] for k, row in shown.items()
    }
    plan_rows = [r for r in rows[2:] if r[0] == "Plan"]
    assert len(plan_rows) == 1 and plan_rows[0][1] == "test-plan"


@pytest.mark.parametrize("query", ["as_of=2026-13-45", "as_of=hôm-nay", "plan=abc", "kind=x"])
def test_bad_board_input_is_a_400_page_not_a_500(seeded, english, query):
    sign_in(english, "skhcn.director")
    response = english.get(f"/board?{query}")
    assert response.status_code == 400
    assert "not" in response.get_data(as_text=True)
    assert english.get(f"/board.csv?{query}").status_code == 400


def test_the_board_speaks_vietnamese_by_default(seeded, client):
    sign_in(client, "skhcn.director")
    assert client.get("/board?as_of=2026-13-01").status_code == 400


# --- permissions ---------------------------------------------------------------------------------


def test_who_may_open_the_office_screen_and_the_board(seeded, app):
    for username, office, board in (
        ("vps.head", 403, 403),
        ("qlkhcn.head", 403, 403),
        ("skhcn.director", 403, 200),
        ("vps.office", 200, 200),
        ("admin", 200, 200),
    ):
        client = app.test_client()
        sign_in(client, username)
        assert client.get("/office").status_code == office, username
        assert client.get("/board").status_code == board, username
        assert client.get("/board.csv").status_code == board, username
    assert app.test_client().get("/office").status_code == 302  # to the sign-in page


def test_refusals_change_nothing(seeded, app):
    report_id = submit(seeded, "1", "vps.head")
    request_id = _request_extension(seeded, "2", "qlkhcn.head", date(2027, 6, 30))
    with seeded.context() as ctx:
        waiting = task_by_ref(ctx, "test-plan", "3").id
    data = {"version": version(seeded, "1"), "reason": "Lý do", "note": "Ghi chú"}
    before = snapshot(seeded)
    head = app.test_client()
    sign_in(head, "vps.head")
    token_page = "/account/password"
    assert head.get("/office").status_code == 403
    assert (
        post_form(head, f"/office/reports/{report_id}/accept", data, token_page).status_code == 403
    )
    assert (
        post_form(head, f"/office/reports/{report_id}/return", data, token_page).status_code == 403
    )
    leader = app.test_client()
    sign_in(leader, "skhcn.director")
    assert (
        post_form(leader, f"/office/reports/{report_id}/accept", data, "/board").status_code == 403
    )
    assert (
        post_form(leader, f"/office/extensions/{request_id}/grant", {}, "/board").status_code == 403
    )
    ward = app.test_client()
    ward.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(ward, "vinhtuy.office")
    html = ward.get("/office").get_data(as_text=True)
    assert rows_of(html, "report") == [] and rows_of(html, "request") == []
    assert rows_of(html, "task") == []
    assert "Việc đã quá hạn" not in html
    assert (
        post_form(ward, f"/office/reports/{report_id}/accept", data, "/office").status_code == 403
    )
    assert (
        post_form(ward, f"/office/reports/{report_id}/return", data, "/office").status_code == 403
    )
    assert (
        post_form(ward, f"/office/extensions/{request_id}/grant", {}, "/office").status_code == 403
    )
    assert (
        post_form(ward, f"/office/extensions/{request_id}/refuse", data, "/office").status_code
        == 403
    )
    trigger = {"number": "1/HD", "issued_on": "2026-11-02", "issuer": "Bộ", "tasks": [waiting]}
    assert post_form(ward, "/office/triggers", trigger, "/office").status_code == 400  # not offered
    ward_board = ward.get("/board").get_data(as_text=True)
    assert rows_of(ward_board, "unit") == [] and rows_of(ward_board, "plan") == []
    names = {v: k for k, v in unit_ids(seeded).items()}
    assert ward.get(f"/board/unit/{names['Văn phòng Sở']}").status_code == 403
    office = app.test_client()
    sign_in(office, "vps.office")
    assert office.post(f"/office/reports/{report_id}/accept", data=data).status_code == 400
    assert snapshot(seeded) == before


def test_an_already_decided_report_is_a_conflict_not_a_500(seeded, english):
    report_id = submit(seeded, "2", "qlkhcn.head", progress=40)
    sign_in(english, "vps.office")
    seen = {"version": version(seeded, "2")}
    first = post_form(english, f"/office/reports/{report_id}/accept", seen, "/office")
    second = post_form(english, f"/office/reports/{report_id}/accept", seen, "/office")
    assert (first.status_code, second.status_code) == (302, 409)
    assert post_form(english, "/office/reports/999999/accept", seen, "/office").status_code == 404
    outsider = english.application.test_client()
    sign_in(outsider, "vinhtuy.office")  # learns nothing of another organisation's report
    response = post_form(outsider, f"/office/reports/{report_id}/accept", seen, "/office")
    assert response.status_code == 403


def test_the_office_cannot_review_its_own_report_a_colleague_can(seeded, app):
    """vps.office reports on a task its own unit leads; the queue offers no review to them."""
    report_id = submit(seeded, "1", "vps.office")
    author = app.test_client()
    author.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(author, "vps.office")
    html = author.get("/office").get_data(as_text=True)
    assert rows_of(html, "report") == [str(report_id)]
    assert f"/office/reports/{report_id}/accept" not in html
    assert "You submitted this report" in html
    task_page = author.get(f"/tasks/{task_id_of(seeded, '1')}").get_data(as_text=True)
    assert f"/reports/{report_id}/accept" not in task_page
    before = snapshot(seeded)
    response = post_form(
        author,
        f"/office/reports/{report_id}/accept",
        {"note": "", "version": version(seeded, "1")},
        form_page="/office",
    )
    assert response.status_code == 403
    assert snapshot(seeded) == before
    colleague = app.test_client()
    sign_in(colleague, "hcqt.office")
    assert f"/office/reports/{report_id}/accept" in colleague.get("/office").get_data(as_text=True)
    response = post_form(
        colleague,
        f"/office/reports/{report_id}/accept",
        {"note": "", "version": version(seeded, "1")},
        form_page="/office",
    )
    assert response.status_code == 302
    with seeded.context() as ctx:
        assert ctx.session.get(Report, report_id).reviewed_by.username == "hcqt.office"


def task_id_of(engine, ref: str) -> int:
    with engine.context() as ctx:
        return task_by_ref(ctx, "test-plan", ref).id
