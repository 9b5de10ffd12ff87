"""My unit and the task page through HTTP: grouping, reports, reviews, and the permission
contract walked form by form (403 and nothing changed), CSRF, stale forms and bad input."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import post_form, sign_in, task_by_ref, user
from tests.test_unit_view import make_vps_plan
from workflow import tasks as svc
from workflow.models import DueItem, ExtensionRequest, Report, Task, TaskEvent

ROWS = [
    ["1", "Xây dựng quy chế phối hợp", "Văn phòng Sở", "Phòng Quản lý KH&CN", "6/2027"],
    ["2", "Rà soát thủ tục hành chính", "Phòng Quản lý KH&CN", "", "6/2027"],
]


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def task_id(engine, ref: str = "1") -> int:
    with engine.context(write=False) as ctx:
        return task_by_ref(ctx, "test-plan", ref).id


def snapshot(engine, tid: int) -> tuple:
    """Everything a form could change on a task."""
    with engine.context(write=False) as ctx:
        task = ctx.session.get(Task, tid)

        def count(model, *where) -> int:
            query = sa.select(sa.func.count()).select_from(model).where(*where)
            return ctx.session.scalar(query)

        reports = ctx.session.execute(
            sa.select(Report.id, Report.status).where(Report.task_id == tid).order_by(Report.id)
        ).all()
        items = ctx.session.execute(
            sa.select(DueItem.id, DueItem.status, DueItem.due_date)
            .where(DueItem.task_id == tid)
            .order_by(DueItem.id)
        ).all()
        return (
            task.version,
            task.status,
            task.progress,
            count(TaskEvent, TaskEvent.task_id == tid),
            count(ExtensionRequest, ExtensionRequest.task_id == tid),
            [tuple(r) for r in reports],
            [tuple(i) for i in items],
        )


def version(engine, tid: int) -> int:
    with engine.context(write=False) as ctx:
        return ctx.session.get(Task, tid).version


def first_report_period(engine, tid: int) -> str:
    with engine.context(write=False) as ctx:
        item = ctx.session.scalars(
            sa.select(DueItem)
            .where(DueItem.task_id == tid, DueItem.status == "open", DueItem.kind == "report")
            .order_by(DueItem.due_date)
        ).first()
        return f"{item.kind}:{item.period_key}"


def submit(engine, tid: int, username: str = "vps.head", progress: int = 40) -> int:
    """A report submitted through the engine (as another browser would); its id."""
    with engine.context() as ctx:
        task = ctx.session.get(Task, tid)
        return svc.submit_report(
            ctx, user(ctx, username), task, text="Đã làm", progress=progress
        ).id


def section(page: str, group: str) -> str:
    start = page.index(f'data-group="{group}"')
    end = page.find("<section", start)
    return page[start : end if end != -1 else len(page)]


def history_actions(engine, tid: int) -> list[str]:
    with engine.context(write=False) as ctx:
        return list(
            ctx.session.scalars(
                sa.select(TaskEvent.action).where(TaskEvent.task_id == tid).order_by(TaskEvent.id)
            )
        )


# --- My unit -------------------------------------------------------------------------------------


def task_links(page: str) -> list[str]:
    return re.findall(r'href="/tasks/\d+">([^<]+)<', page)


def test_my_unit_counts_every_group_and_lists_the_urgent_ones(en, make_plan, engine, clock):
    make_vps_plan(make_plan, engine)
    sign_in(en, "vps.head")
    response = en.get("/unit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and "My unit" in page
    counts = dict(re.findall(r'href="/unit/(\w+)" class="badge[^"]*">[^<]*: (\d+)<', page))
    assert counts == {
        "overdue": "1",
        "soon": "1",
        "waiting": "1",
        "ongoing": "2",
        "done": "1",
        "cooperating": "1",
    }
    overdue, soon = section(page, "overdue"), section(page, "soon")
    assert "Việc đã quá hạn" in overdue and "31/12/2025" in overdue and "326" in overdue
    assert "Việc sắp đến hạn" in soon and "27/11/2026" in soon and ">5 " in soon
    for group, title in (("waiting", "Waiting for guidance (1)"), ("done", "Done (1)")):
        assert title in section(page, group) and f'href="/unit/{group}"' in section(page, group)
    assert task_links(page) == ["Việc đã quá hạn", "Việc sắp đến hạn"]  # the others: counted
    assert "Show all" not in page  # every urgent task is on the page already

    clock.set(date(2026, 12, 1))
    page = en.get("/unit").get_data(as_text=True)
    overdue = section(page, "overdue")
    assert "Việc sắp đến hạn" in overdue and ">4 " in overdue
    assert "Việc sắp đến hạn" not in section(page, "soon")


def test_each_group_has_a_page_of_its_own(en, make_plan, engine):
    make_vps_plan(make_plan, engine)
    sign_in(en, "vps.head")
    expected = {
        "overdue": ["Việc đã quá hạn"],
        "soon": ["Việc sắp đến hạn"],
        "waiting": ["Việc chờ hướng dẫn"],
        "ongoing": ["Việc thường xuyên", "Việc chưa rõ thời hạn"],
        "done": ["Việc đã hủy"],
        "cooperating": ["Việc phối hợp"],
    }
    for group, names in expected.items():
        response = en.get(f"/unit/{group}")
        assert response.status_code == 200, group
        page = response.get_data(as_text=True)
        assert task_links(page) == names, group
        assert "Việc của đơn vị khác" not in page
        assert 'class="pager"' not in page  # one page
    ongoing = section(en.get("/unit/ongoing").get_data(as_text=True), "ongoing")
    assert "14/12/2026" in ongoing and 'class="badge late review"' in ongoing
    cooperating = section(en.get("/unit/cooperating").get_data(as_text=True), "cooperating")
    assert "Phòng Quản lý Khoa học và Công nghệ" in cooperating and "<form" not in cooperating
    for unknown in ("/unit/nope", "/unit/OVERDUE", "/unit/overdue/2"):
        assert en.get(unknown).status_code == 404, unknown


def test_a_long_group_is_paged_and_the_home_page_links_to_it(app, en, make_plan, engine):
    app.config["NHIEMVU_PER_PAGE"] = 10
    rows = [
        [str(i + 1), f"Việc trễ số {i + 1:02}", "Văn phòng Sở", "", "12/2025"] for i in range(25)
    ]
    rows[24][4] = "6/2026"  # the last one is the least late
    make_plan(rows)
    sign_in(en, "vps.head")
    home = en.get("/unit").get_data(as_text=True)
    assert "Overdue (25)" in home and 'href="/unit/overdue">Show all 25<' in home
    first = task_links(section(home, "overdue"))
    assert len(first) == 20 and first[0] == "Việc trễ số 01"

    seen = []
    for number in (1, 2, 3):
        page = en.get(f"/unit/overdue?page={number}").get_data(as_text=True)
        assert "Overdue (25)" in page and f"Page {number} of 3" in page
        assert ('rel="prev"' in page) == (number > 1) and ('rel="next"' in page) == (number < 3)
        if number < 3:
            assert f'href="/unit/overdue?page={number + 1}"' in page
        seen += task_links(page)
    assert len(seen) == 25 == len(set(seen))
    assert seen[:20] == first and seen[-1] == "Việc trễ số 25"  # same order as the home page
    assert task_links(en.get("/unit/overdue?page=99").get_data(as_text=True)) == seen[20:]
    for bad in ("0", "-1", "abc", ""):
        assert task_links(en.get(f"/unit/overdue?page={bad}").get_data(as_text=True)) == seen[:10]


def test_my_unit_for_the_office_for_someone_without_a_unit_and_signed_out(en, make_plan, engine):
    make_vps_plan(make_plan, engine)
    assert en.get("/unit").headers["Location"].startswith("/login")
    sign_in(en, "vps.office")  # the Office's own unit leads tasks too
    page = en.get("/unit").get_data(as_text=True)
    assert "Việc đã quá hạn" in section(page, "overdue")
    assert (
        en.application.test_client().get("/unit/overdue").headers["Location"].startswith("/login")
    )
    other = en.application.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(other, "admin")
    for path in ("/unit", "/unit/overdue", "/unit/cooperating"):
        response = other.get(path)
        assert response.status_code == 200 and "/tasks/" not in response.get_data(as_text=True)


def test_my_unit_pages_run_as_many_queries_for_3_tasks_as_for_30(en, make_plan, engine):
    timings = ["12/2025", "27/11/2026", "Thường xuyên", "Sau khi có hướng dẫn của Trung ương"]

    def rows(n: int) -> list[list[str]]:
        return [
            [str(i + 1), f"Nhiệm vụ {i + 1}", "Văn phòng Sở", "Phòng Quản lý TĐC", timings[i % 4]]
            for i in range(n)
        ]

    sign_in(en, "vps.head")

    def count_queries() -> int:
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:
            statements.append(statement)

        sa.event.listen(engine.database.engine, "before_cursor_execute", count)
        try:
            assert en.get("/unit").status_code == 200
            assert en.get("/unit/overdue").status_code == 200
        finally:
            sa.event.remove(engine.database.engine, "before_cursor_execute", count)
        return len(statements)

    make_plan(rows(3), code="small", number="1/KH-SKHCN")
    few = count_queries()
    make_plan(rows(27), code="large", number="2/KH-SKHCN")
    assert count_queries() == few


def test_a_cooperating_unit_head_sees_the_task_read_only(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    sign_in(en, "qlkhcn.head")
    page = en.get(f"/tasks/{tid}").get_data(as_text=True)
    assert "Xây dựng quy chế phối hợp" in page
    assert f'action="/tasks/{tid}/report"' not in page
    assert f'action="/tasks/{tid}/extension"' not in page
    before = snapshot(engine, tid)
    response = post_form(
        en,
        f"/tasks/{tid}/report",
        {
            "text": "X",
            "progress": "10",
            "period": first_report_period(engine, tid),
            "version": before[0],
        },
        form_page=f"/tasks/{tid}",
    )
    assert response.status_code == 403
    assert snapshot(engine, tid) == before


# --- the task page -------------------------------------------------------------------------------


def test_the_task_page_shows_details_due_items_reports_and_history(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    submit(engine, tid)
    sign_in(en, "vps.head")
    response = en.get(f"/tasks/{tid}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in (
        "1/KH-SKHCN",
        "Xây dựng quy chế phối hợp",
        "Văn phòng Sở",
        "Phòng Quản lý Khoa học và Công nghệ",
        "6/2027",
        "30/06/2027",  # what the timing was read as, and the deadline's due date
        "22/11/2026 09:00",  # the history, in Vietnamese time
        "Đã làm",
        "40 %",
    ):
        assert text in page, text
    assert page.count("<li data-action=") == 3  # imported, start, report
    assert f'action="/tasks/{tid}/report"' in page
    assert f'action="/tasks/{tid}/cancel"' not in page  # not the unit's to do


def test_an_unknown_task_is_404(en, make_plan, engine):
    make_plan(ROWS)
    sign_in(en, "vps.office")
    assert en.get("/tasks/999999").status_code == 404


def test_a_unit_head_reports_from_the_task_page(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    period = first_report_period(engine, tid)
    sign_in(en, "vps.head")
    path = f"/tasks/{tid}"
    response = post_form(
        en,
        f"{path}/report",
        {
            "text": "Đã ban hành dự thảo",
            "progress": "40",
            "period": period,
            "version": version(engine, tid),
        },
        form_page=path,
    )
    assert response.status_code == 302 and response.headers["Location"] == path
    with engine.context(write=False) as ctx:
        task = ctx.session.get(Task, tid)
        assert (task.status, task.progress) == ("reported", 40)
        report = ctx.session.scalars(sa.select(Report).where(Report.task_id == tid)).one()
        assert (report.text, report.progress, report.status) == (
            "Đã ban hành dự thảo",
            40,
            "submitted",
        )
        assert report.submitted_by.username == "vps.head"
        kind, _, key = period.partition(":")
        item = ctx.session.scalars(
            sa.select(DueItem).where(
                DueItem.task_id == tid, DueItem.kind == kind, DueItem.period_key == key
            )
        ).one()
        assert (item.status, item.report_id) == ("satisfied", report.id)
    assert history_actions(engine, tid)[-1] == "report"
    page = en.get(path).get_data(as_text=True)
    assert "Đã ban hành dự thảo" in page and 'class="flash info"' in page


@pytest.mark.parametrize(
    "data",
    [
        {"text": "", "progress": "40"},
        {"text": "   ", "progress": "40"},
        {"text": "Đã làm", "progress": "150"},
        {"text": "Đã làm", "progress": "-1"},
        {"text": "Đã làm", "progress": "bốn mươi"},
        {"text": "Đã làm", "progress": "40", "period": "report:1999-01"},
        {"text": "Đã làm", "progress": "40", "version": "x"},
    ],
)
def test_an_invalid_report_form_is_400_and_changes_nothing(en, make_plan, engine, data):
    make_plan(ROWS)
    tid = task_id(engine)
    before = snapshot(engine, tid)
    sign_in(en, "vps.head")
    form = {"period": first_report_period(engine, tid), "version": before[0], **data}
    response = post_form(en, f"/tasks/{tid}/report", form, form_page=f"/tasks/{tid}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="error' in page and f'action="/tasks/{tid}/report"' in page
    assert snapshot(engine, tid) == before


def test_only_a_complete_report_may_meet_the_deadline(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    before = snapshot(engine, tid)
    sign_in(en, "vps.head")
    path = f"/tasks/{tid}"
    form = {
        "text": "Một nửa",
        "progress": "50",
        "period": "deadline:deadline",
        "version": before[0],
    }
    response = post_form(en, f"{path}/report", form, form_page=path)
    assert response.status_code == 400
    assert snapshot(engine, tid) == before
    form = {**form, "text": "Hoàn thành", "progress": "100"}
    assert post_form(en, f"{path}/report", form, form_page=path).status_code == 302
    with engine.context(write=False) as ctx:
        deadline = ctx.session.scalars(
            sa.select(DueItem).where(DueItem.task_id == tid, DueItem.kind == "deadline")
        ).one()
        assert deadline.status == "satisfied"


def test_a_unit_head_asks_for_an_extension(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    path = f"/tasks/{tid}"
    sign_in(en, "vps.head")
    before = snapshot(engine, tid)
    bad = {"period": "deadline:deadline", "reason": "Chờ ý kiến", "version": before[0]}
    for data in (
        {**bad, "reason": ""},
        {**bad, "proposed_date": "12/31/2027"},  # month first, as an English browser writes
        {**bad, "proposed_date": "2027-02-30"},
        {**bad, "proposed_date": "2027-01-31"},  # before the deadline: the engine refuses
    ):
        response = post_form(en, f"{path}/extension", data, form_page=path)
        assert response.status_code == 400, data
        assert snapshot(engine, tid) == before
    good = {**bad, "proposed_date": "2027-09-30"}
    assert post_form(en, f"{path}/extension", good, form_page=path).status_code == 302
    with engine.context(write=False) as ctx:
        request = ctx.session.scalars(
            sa.select(ExtensionRequest).where(ExtensionRequest.task_id == tid)
        ).one()
        assert (request.reason, request.proposed_date, request.status) == (
            "Chờ ý kiến",
            date(2027, 9, 30),
            "pending",
        )
        assert request.due_item.kind == "deadline"
    assert history_actions(engine, tid)[-1] == "extension_requested"


# --- the Office's forms --------------------------------------------------------------------------


def test_the_office_accepts_and_returns_reports(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    path = f"/tasks/{tid}"
    first = submit(engine, tid)
    sign_in(en, "vps.office")
    page = en.get(path).get_data(as_text=True)
    assert f'action="{path}/reports/{first}/accept"' in page
    response = post_form(
        en,
        f"{path}/reports/{first}/accept",
        {"note": "Tốt", "version": version(engine, tid)},
        form_page=path,
    )
    assert response.status_code == 302
    with engine.context(write=False) as ctx:
        report = ctx.session.get(Report, first)
        assert (report.status, report.review_note, report.reviewed_by.username) == (
            "accepted",
            "Tốt",
            "vps.office",
        )
        assert ctx.session.get(Task, tid).status == "in_progress"
    assert history_actions(engine, tid)[-1] == "accept"

    second = submit(engine, tid, progress=60)
    before = snapshot(engine, tid)
    no_reason = {"reason": "", "version": before[0]}
    response = post_form(en, f"{path}/reports/{second}/return", no_reason, form_page=path)
    assert response.status_code == 400 and snapshot(engine, tid) == before
    reason = {"reason": "Thiếu số liệu", "version": before[0]}
    assert (
        post_form(en, f"{path}/reports/{second}/return", reason, form_page=path).status_code == 302
    )
    with engine.context(write=False) as ctx:
        report = ctx.session.get(Report, second)
        assert (report.status, report.review_note) == ("returned", "Thiếu số liệu")
        assert report.due_items == []  # what it satisfied is owed again
        task = ctx.session.get(Task, tid)
        assert (task.status, task.progress) == ("in_progress", 40)
    assert history_actions(engine, tid)[-1] == "return"


def test_a_review_form_with_a_broken_version_is_400_and_changes_nothing(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    report = submit(engine, tid)
    before = snapshot(engine, tid)
    sign_in(en, "vps.office")
    path = f"/tasks/{tid}"
    for action, data in (("accept", {"version": ""}), ("return", {"reason": "X", "version": "v"})):
        response = post_form(en, f"{path}/reports/{report}/{action}", data, form_page=path)
        assert response.status_code == 400, action
        assert snapshot(engine, tid) == before


def test_the_office_cancels_and_reopens(en, make_plan, engine):
    make_plan(ROWS)
    one, two = task_id(engine, "1"), task_id(engine, "2")
    sign_in(en, "vps.office")
    path = f"/tasks/{one}"
    before = snapshot(engine, one)
    response = post_form(en, f"{path}/cancel", {"reason": "", "version": before[0]}, form_page=path)
    assert response.status_code == 400 and snapshot(engine, one) == before
    data = {"reason": "Đã có kế hoạch khác", "version": before[0]}
    assert post_form(en, f"{path}/cancel", data, form_page=path).status_code == 302
    assert snapshot(engine, one)[1] == "cancelled"
    assert history_actions(engine, one)[-1] == "cancel"

    report = submit(engine, two, username="qlkhcn.head", progress=100)
    with engine.context() as ctx:
        svc.accept_report(ctx, user(ctx, "vps.office"), report)
    path = f"/tasks/{two}"
    assert snapshot(engine, two)[1] == "closed"
    assert f'action="{path}/reopen"' in en.get(path).get_data(as_text=True)
    data = {"reason": "Cần bổ sung", "version": version(engine, two)}
    assert post_form(en, f"{path}/reopen", data, form_page=path).status_code == 302
    assert snapshot(engine, two)[1] == "in_progress"
    assert history_actions(engine, two)[-1] == "reopen"


# --- permissions, CSRF, stale forms ----------------------------------------------------------------


def _every_form(tid: int, report_id: int, v: int, period: str) -> list[tuple[str, dict]]:
    return [
        (f"/tasks/{tid}/report", {"text": "X", "progress": "10", "period": period, "version": v}),
        (f"/tasks/{tid}/extension", {"period": period, "reason": "X", "version": v}),
        (f"/tasks/{tid}/reports/{report_id}/accept", {"note": "", "version": v}),
        (f"/tasks/{tid}/reports/{report_id}/return", {"reason": "X", "version": v}),
        (f"/tasks/{tid}/reopen", {"reason": "X", "version": v}),
        (f"/tasks/{tid}/cancel", {"reason": "X", "version": v}),
    ]


def test_another_units_head_gets_403_on_the_page_and_every_form(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    report = submit(engine, tid)
    before = snapshot(engine, tid)
    sign_in(en, "qltdc.head")
    assert en.get(f"/tasks/{tid}").status_code == 403
    for path, data in _every_form(tid, report, before[0], first_report_period(engine, tid)):
        assert post_form(en, path, data, form_page="/unit").status_code == 403, path
        assert snapshot(engine, tid) == before, path


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("skhcn.director", set()),  # leadership: sees, enters nothing
        ("vps.head", {"report", "extension"}),  # the lead unit: no Office action
        ("qlkhcn.head", set()),  # cooperating: read-only
    ],
)
def test_who_may_use_which_form(en, make_plan, engine, username, allowed):
    make_plan(ROWS)
    tid = task_id(engine)
    report = submit(engine, tid)
    sign_in(en, username)
    assert en.get(f"/tasks/{tid}").status_code == 200
    period = first_report_period(engine, tid)
    for path, data in _every_form(tid, report, version(engine, tid), period):
        name = path.rsplit("/", 1)[1]
        if name in allowed:
            continue
        before = snapshot(engine, tid)
        assert post_form(en, path, data, form_page=f"/tasks/{tid}").status_code == 403, path
        assert snapshot(engine, tid) == before, path


def test_a_unit_head_cannot_accept_their_own_report(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    report = submit(engine, tid)
    before = snapshot(engine, tid)
    sign_in(en, "vps.head")
    page = en.get(f"/tasks/{tid}").get_data(as_text=True)
    assert f"/reports/{report}/accept" not in page
    response = post_form(
        en,
        f"/tasks/{tid}/reports/{report}/accept",
        {"version": before[0]},
        form_page=f"/tasks/{tid}",
    )
    assert response.status_code == 403
    assert snapshot(engine, tid) == before


def test_a_report_of_another_task_is_not_found_through_this_one(en, make_plan, engine):
    make_plan(ROWS)
    one, two = task_id(engine, "1"), task_id(engine, "2")
    other = submit(engine, two, username="qlkhcn.head")
    before = snapshot(engine, two)
    sign_in(en, "vps.office")
    data = {"version": version(engine, one)}
    response = post_form(
        en, f"/tasks/{one}/reports/{other}/accept", data, form_page=f"/tasks/{one}"
    )
    assert response.status_code == 404
    assert snapshot(engine, two) == before


def test_a_form_without_its_csrf_token_is_400_and_changes_nothing(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    before = snapshot(engine, tid)
    sign_in(en, "vps.head")
    data = {
        "text": "X",
        "progress": "10",
        "period": first_report_period(engine, tid),
        "version": before[0],
    }
    assert en.post(f"/tasks/{tid}/report", data=data).status_code == 400
    assert snapshot(engine, tid) == before


def test_a_stale_form_is_409_and_changes_nothing(en, make_plan, engine):
    make_plan(ROWS)
    tid = task_id(engine)
    path = f"/tasks/{tid}"
    stale = version(engine, tid)
    sign_in(en, "vps.head")
    submit(engine, tid)  # someone else reports meanwhile
    before = snapshot(engine, tid)
    assert before[0] != stale
    data = {
        "text": "Bản cũ",
        "progress": "20",
        "period": first_report_period(engine, tid),
        "version": stale,
    }
    assert post_form(en, f"{path}/report", data, form_page=path).status_code == 409
    data = {"period": "deadline:deadline", "reason": "X", "version": stale}
    assert post_form(en, f"{path}/extension", data, form_page=path).status_code == 409
    assert snapshot(engine, tid) == before

    office = en.application.test_client()
    office.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(office, "vps.office")
    report_id = before[5][0][0]
    seen = version(engine, tid)
    submit(engine, tid, progress=50)  # a second report lands while the Office reads the first
    before = snapshot(engine, tid)
    response = post_form(
        office, f"{path}/reports/{report_id}/accept", {"version": seen}, form_page=path
    )
    assert response.status_code == 409
    assert snapshot(engine, tid) == before


def test_a_stale_form_for_what_someone_has_just_reported_is_409_too(en, make_plan, engine):
    """Two people open the task page; one reports, complete, on a period. The other's forms
    name a period and a deadline no longer open, but what went wrong is that the task changed
    under them: 409 and "reload", as for any stale form, not "not a valid choice"."""
    make_plan(ROWS)
    tid = task_id(engine)
    path = f"/tasks/{tid}"
    period, stale = first_report_period(engine, tid), version(engine, tid)
    sign_in(en, "vps.head")
    with engine.context() as ctx:
        task = ctx.session.get(Task, tid)
        svc.submit_report(
            ctx, user(ctx, "vps.head"), task, text="Xong", progress=100, period_key=period
        )
    before = snapshot(engine, tid)
    data = {"text": "Bản cũ", "progress": "100", "period": period, "version": stale}
    assert post_form(en, f"{path}/report", data, form_page=path).status_code == 409
    data = {"period": "deadline:deadline", "reason": "X", "version": stale}
    assert post_form(en, f"{path}/extension", data, form_page=path).status_code == 409
    assert snapshot(engine, tid) == before
