"""Task search, paged lists and the chart of task states per plan, through the test client."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import sign_in, task_by_ref, user
from tests.test_web_plans import _seeds
from workflow import tasks as svc
from workflow.board import visible_to
from workflow.lifecycle import STATES
from workflow.models import Plan, Task, TaskUnit, Unit, User
from workflow.pagination import Page, page_number, paginate
from workflow.permissions import Action, can
from workflow.queries import search_words

ROWS = [
    ["1", "Thúc đẩy chuyển đổi số trong cơ quan", "Văn phòng Sở", "Phòng Quản lý KH&CN", "6/2026"],
    ["2", "Số hóa hồ sơ, chuyển đổi quy trình", "Phòng Quản lý KH&CN", "", "3/2027"],
    ["3", "Đào tạo kỹ năng số cho cán bộ", "Phòng Quản lý KH&CN", "", "Thường xuyên"],
    ["4", "Chờ hướng dẫn chuyển đổi số", "Văn phòng Sở", "", "Sau khi có hướng dẫn của Trung ương"],
]
TODAY = date(2026, 11, 22)


@pytest.fixture
def seeded(make_plan, engine, clock):
    """One plan started on 1 Sep 2026 (task 1 overdue, task 4 waiting); today 22 Nov 2026."""
    clock.set(date(2026, 9, 1))
    make_plan(ROWS, regime="monthly:14", issued_on="2026-08-20")
    clock.set(TODAY)
    return engine


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def ids(engine, plan_code: str, *refs: str) -> list[str]:
    with engine.context() as ctx:
        return sorted(str(task_by_ref(ctx, plan_code, ref).id) for ref in refs)


def unit_id(engine, code: str) -> int:
    with engine.context() as ctx:
        return ctx.session.scalar(sa.select(Unit.id).where(Unit.code == code))


def plan_id(engine, code: str) -> int:
    with engine.context() as ctx:
        return ctx.session.scalar(sa.select(Plan.id).where(Plan.code == code))


def found(client, query: str = "", path: str = "/tasks") -> list[str]:
    response = client.get(f"{path}?{query}" if query else path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(re.findall(r'<tr data-task="(\d+)"', response.get_data(as_text=True)))


def statements(engine, request) -> int:
    """How many SQL statements ``request()`` runs."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine.database.engine, "before_cursor_execute", count)
    try:
        response = request()
        assert response.status_code == 200
    finally:
        event.remove(engine.database.engine, "before_cursor_execute", count)
    return len(seen)


def pager_links(page: str) -> dict[str, dict[str, list[str]]]:
    """{"prev"/"next": query arguments} of the pager's links."""
    links = re.findall(r'rel="(prev|next)" href="([^"]+)"', page)
    return {rel: parse_qs(urlsplit(href.replace("&amp;", "&")).query) for rel, href in links}


# --- the words ---------------------------------------------------------------------------------


def test_words_are_folded_like_task_names():
    assert search_words("  Chuyển ĐỔI   số ") == ["chuyen", "doi", "so"]
    assert search_words("chuyen doi so") == search_words("CHUYỂN ĐỔI SỐ")
    assert search_words("KH&CN, đổi đổi") == ["khcn", "doi"]
    assert search_words("%_ '") == []


@pytest.mark.parametrize(
    "words", ["chuyen doi so", "chuyển đổi số", "CHUYỂN ĐỔI SỐ", "Chuyen DOI Số", "số đổi chuyển"]
)
def test_with_or_without_diacritics_any_case_any_order_finds_the_same_tasks(seeded, english, words):
    sign_in(english, "vps.office")
    assert found(english, f"q={words}") == ids(seeded, "test-plan", "1", "2", "4")


def test_every_word_must_match_and_words_match_from_their_start(seeded, english):
    sign_in(english, "vps.office")
    assert found(english, "q=chuyen doi so hoa") == ids(seeded, "test-plan", "2")
    assert found(english, "q=chuy dao") == []  # "dao" is task 3's, "chuy" is not
    assert found(english, "q=dao tao") == ids(seeded, "test-plan", "3")
    assert found(english, "q=uyen") == []  # not a word's start
    assert found(english, "q=chuy") == ids(seeded, "test-plan", "1", "2", "4")
    assert found(english) == ids(seeded, "test-plan", "1", "2", "3", "4")  # no words: all


def test_results_show_plan_ref_leads_state_and_next_due(seeded, english):
    sign_in(english, "vps.office")
    page = english.get("/tasks?q=thuc day").get_data(as_text=True)
    (task_id,) = ids(seeded, "test-plan", "1")
    row = page[page.index(f'<tr data-task="{task_id}"') :]
    row = row[: row.index("</tr>")]
    assert "1/KH-SKHCN" in row and "<td>1</td>" in row
    assert f'href="/tasks/{task_id}"' in row
    assert "Văn phòng Sở" in row and "In progress" in row
    assert "30/06/2026" in row  # the open deadline, overdue
    assert "1 task found" in page


def test_filters_plan_lead_unit_and_state(seeded, english, make_plan):
    make_plan(
        [["1", "Chuyển đổi số cấp xã", "Văn phòng Sở", "", "2027"]],
        code="other",
        number="2/KH-SKHCN",
    )
    sign_in(english, "vps.office")
    everything = found(english, "q=chuyen doi so")
    assert len(everything) == 4
    test_plan = plan_id(seeded, "test-plan")
    assert found(english, f"q=chuyen doi so&plan={test_plan}") == ids(
        seeded, "test-plan", "1", "2", "4"
    )
    assert found(english, f"plan={plan_id(seeded, 'other')}") == ids(seeded, "other", "1")
    qlkhcn = unit_id(seeded, "QLKHCN")
    assert found(english, f"unit={qlkhcn}") == ids(seeded, "test-plan", "2", "3")
    assert found(english, "state=waiting") == ids(seeded, "test-plan", "4")
    assert found(english, f"q=chuyen&unit={qlkhcn}&state=in_progress") == ids(
        seeded, "test-plan", "2"
    )


@pytest.mark.parametrize("query", ["plan=abc", "unit=x1", "state=bogus"])
def test_a_bad_filter_is_a_400_page_not_a_500(seeded, english, query):
    sign_in(english, "vps.office")
    response = english.get(f"/tasks?{query}")
    assert response.status_code == 400
    assert "not a valid choice" in response.get_data(as_text=True)


def test_a_unit_head_finds_only_tasks_of_their_unit(seeded, english, make_plan):
    make_plan(
        [["1", "Chuyển đổi số ở Văn phòng", "Văn phòng Sở", "", "2027"]],
        code="vps-only",
        number="3/KH-SKHCN",
    )
    sign_in(english, "qlkhcn.head")
    mine = ids(seeded, "test-plan", "1", "2", "3")  # 1: cooperating; 4 is led by the VPS alone
    assert found(english) == mine
    assert found(english, "q=chuyen doi so") == ids(seeded, "test-plan", "1", "2")
    foreign = plan_id(seeded, "vps-only")
    assert found(english, f"plan={foreign}") == []  # nothing, not an error
    assert found(english, f"plan={foreign}&q=chuyen") == []
    assert found(english, "plan=999999") == []
    page = english.get("/tasks").get_data(as_text=True)
    assert f'value="{foreign}"' not in page  # not offered either
    assert "/plans/" not in page.split("<main>")[1]  # plan pages are not theirs to open


def test_a_ward_sees_nothing_of_the_province(app, engine, english):
    _seeds(engine)
    sign_in(english, "vinhtuy.office")
    page = english.get("/tasks").get_data(as_text=True)
    assert "2244" in page and "546/KH-VPUBND" not in page


def test_the_sql_rule_agrees_with_the_permission_contract(app, engine, make_plan):
    """:func:`visible_to` and ``can(user, VIEW, task)`` for every task and every demo user."""
    _seeds(engine)
    make_plan(
        [["1", "Việc không có cơ quan ban hành", "Sở Tư pháp", "Văn phòng Sở", "2027"]],
        code="no-issuer",
        number="9/KH",
        issuer="",
        actor="admin",
    )
    with engine.context() as ctx:
        session = ctx.session
        assert (
            session.scalar(sa.select(Plan.issuer_unit_id).where(Plan.code == "no-issuer")) is None
        )
        user(ctx, "stc.head").active = False
        tasks = session.scalars(sa.select(Task).order_by(Task.id)).all()
        users = session.scalars(sa.select(User).order_by(User.id)).all()
        assert len(tasks) > 50 and len(users) > 15
        for account in users:
            shown = set(
                session.scalars(
                    sa.select(Task.id)
                    .join(Plan, Task.plan_id == Plan.id)
                    .where(visible_to(session, account))
                )
            )
            expected = {t.id for t in tasks if can(account, Action.VIEW, t)}
            assert shown == expected, account.username
        assert visible_to(session, None) is not None


# --- pages ---------------------------------------------------------------------------------------


def many(count: int, lead: str = "Văn phòng Sở", deadline: str = "6/2026") -> list[list[str]]:
    return [[str(i), f"Việc số {i}", lead, "", deadline] for i in range(1, count + 1)]


def test_paginate_clamps_and_counts(seeded):
    with seeded.context() as ctx:
        query = sa.select(Task.id).order_by(Task.id)
        first = paginate(ctx.session, query, 1, 3, scalars=True)
        assert (first.total, first.pages, len(first.items), first.has_next) == (4, 2, 3, True)
        last = paginate(ctx.session, query, 99, 3, scalars=True)
        assert (last.page, len(last.items), last.has_previous, last.has_next) == (2, 1, True, False)
        assert paginate(ctx.session, query, -5, 3).page == 1
        none = paginate(ctx.session, query.where(sa.false()), 3, 3)
        assert (none.page, none.pages, none.items) == (1, 1, [])
        with pytest.raises(ValueError):
            paginate(ctx.session, query, 1, 0)
    assert [page_number(v) for v in ("2", "0", "-1", "abc", "", None, "1.5")] == [
        2,
        1,
        1,
        1,
        1,
        1,
        1,
    ]
    assert Page([1, 2], 1, 2, 3).map(lambda xs: [x * 10 for x in xs]).items == [10, 20]


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "", "1e3"])
def test_search_pages_and_bad_page_numbers_show_a_page(app, english, make_plan, bad):
    app.config["NHIEMVU_PER_PAGE"] = 4
    make_plan(many(10), code="many")
    sign_in(english, "vps.office")
    first = found(english, "q=viec so")
    assert len(first) == 4
    assert found(english, f"q=viec so&page={bad}") == first
    third = english.get("/tasks?q=viec so&page=3").get_data(as_text=True)
    assert len(re.findall(r"<tr data-task=", third)) == 2
    assert "Page 3 of 3" in third
    assert found(english, "q=viec so&page=4") == found(english, "q=viec so&page=3")
    assert found(english, "q=viec so&page=99999999999999999999") == found(
        english, "q=viec so&page=3"
    )
    second = english.get("/tasks?q=viec so&page=2").get_data(as_text=True)
    links = pager_links(second)
    assert links["prev"] == {"q": ["viec so"]}  # page 1 needs no number
    assert links["next"] == {"q": ["viec so"], "page": ["3"]}
    pages = [found(english, f"q=viec so&page={n}") for n in (1, 2, 3)]
    every = [task for page in pages for task in page]
    assert len(every) == len(set(every)) == 10  # each task once


def test_the_drill_down_pages_and_filters_by_words(app, engine, english, make_plan, clock):
    app.config["NHIEMVU_PER_PAGE"] = 5
    clock.set(date(2026, 1, 5))
    make_plan([*many(12), ["13", "Chuyển đổi số", "Văn phòng Sở", "", "6/2026"]], code="late")
    clock.set(TODAY)
    sign_in(english, "skhcn.director")
    vps = unit_id(engine, "VPS")
    path = f"/board/unit/{vps}"
    pages = [found(english, f"as_of=2026-11-22&page={n}", path) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [5, 5, 3]
    assert len({task for page in pages for task in page}) == 13
    assert found(english, "page=abc", path) == pages[0]
    assert found(english, "page=0", path) == pages[0]
    assert found(english, "page=-1", path) == pages[0]
    assert found(english, "page=7", path) == pages[2]
    second = english.get(f"{path}?as_of=2026-11-22&kind=tasks&page=2").get_data(as_text=True)
    assert pager_links(second)["next"] == {
        "as_of": ["2026-11-22"],
        "kind": ["tasks"],
        "page": ["3"],
    }
    assert found(english, "q=chuyen doi so", path) == ids(engine, "late", "13")
    assert found(english, "q=CHUYỂN ĐỔI", path) == ids(engine, "late", "13")
    nothing = english.get(f"{path}?q=khong co").get_data(as_text=True)
    assert "Nothing overdue matches these words." in nothing


def test_the_plans_list_pages(app, engine, english, make_plan):
    app.config["NHIEMVU_PER_PAGE"] = 2
    for n in range(1, 6):
        make_plan(many(1), code=f"plan-{n}", number=f"{n}/KH-SKHCN", issued_on=f"2026-0{n}-01")
    sign_in(english, "vps.office")

    def codes(query: str) -> list[str]:
        page = english.get(f"/plans?{query}")
        assert page.status_code == 200
        return re.findall(r'href="/plans/(plan-\d)"', page.get_data(as_text=True))

    assert codes("") == ["plan-5", "plan-4"]  # newest first
    assert codes("page=2") == ["plan-3", "plan-2"]
    assert codes("page=3") == ["plan-1"]
    for bad in ("0", "-1", "abc"):
        assert codes(f"page={bad}") == ["plan-5", "plan-4"]
    assert codes("page=40") == ["plan-1"]
    assert "Page 3 of 3" in english.get("/plans?page=3").get_data(as_text=True)


def test_the_plan_page_filters_its_rows_and_keeps_their_sections(app, engine, english, make_plan):
    rows = [
        ["I", "Thể chế"],
        ["1", "Chuyển đổi số văn bản", "Văn phòng Sở", "", "2027"],
        ["2", "Rà soát quy chế", "Văn phòng Sở", "", "2027"],
        ["II", "Hạ tầng"],
        ["1", "Hạ tầng số", "Văn phòng Sở", "", "2027"],
        ["III", "Nhân lực"],
        ["1", "Đào tạo chuyển đổi số", "Văn phòng Sở", "", "2027"],
    ]
    make_plan(rows, code="sections")
    sign_in(english, "vps.office")
    whole = english.get("/plans/sections").get_data(as_text=True)
    assert len(re.findall(r"<tr data-task=", whole)) == 4
    page = english.get("/plans/sections?q=chuyen doi so").get_data(as_text=True)
    assert len(re.findall(r"<tr data-task=", page)) == 2
    assert "Chuyển đổi số văn bản" in page and "Đào tạo chuyển đổi số" in page
    assert "Thể chế" in page and "Nhân lực" in page and "Hạ tầng</th>" not in page
    assert page.index("Thể chế") < page.index("Chuyển đổi số văn bản") < page.index("Nhân lực")
    none = english.get("/plans/sections?q=khong co gi").get_data(as_text=True)
    assert "No task matches these words." in none


def test_every_list_runs_a_bounded_number_of_queries(app, engine, client, make_plan, clock):
    clock.set(date(2026, 1, 5))
    make_plan(many(5), code="small", number="1/KH-SKHCN")
    clock.set(TODAY)
    sign_in(client, "skhcn.director")
    vps = unit_id(engine, "VPS")
    paths = [
        "/tasks",
        "/tasks?q=viec so",
        "/tasks?q=viec&state=in_progress&page=2",
        f"/board/unit/{vps}",
        f"/board/unit/{vps}?q=viec",
        "/board",
        "/plans",
        "/plans/small?q=viec",
    ]
    before = {p: statements(engine, lambda p=p: client.get(p)) for p in paths}
    clock.set(date(2026, 1, 5))
    make_plan(many(60), code="large", number="2/KH-SKHCN")
    clock.set(TODAY)
    after = {p: statements(engine, lambda p=p: client.get(p)) for p in paths}
    assert after == before
    assert len(found(client)) == 50  # the first page of 65


# --- the search box ------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["vps.head", "vps.office", "skhcn.director", "admin"])
def test_every_signed_in_person_has_the_search_box(seeded, client, username):
    sign_in(client, username)
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    header = page.split("</header>")[0]
    assert 'action="/tasks"' in header and 'name="q"' in header and 'method="get"' in header


def test_signed_out_there_is_no_search(seeded, client):
    assert client.get("/tasks").status_code in (302, 401)
    assert 'action="/tasks"' not in client.get("/login").get_data(as_text=True)


# --- the chart of states per plan ----------------------------------------------------------------


def chart(page: str) -> dict[str, dict[str, int]]:
    """{plan id: {state: count}} of the states chart."""
    part = page[page.index('id="states-chart"') :]
    part = part[: part.index("</svg>")]
    result: dict[str, dict[str, int]] = {}
    for key, body in re.findall(r'<g data-plan="(\d+)">(.*?)</g>', part, re.S):
        result[key] = {
            state: int(n) for state, n in re.findall(r'data-state="(\w+)" data-count="(\d+)"', body)
        }
    return result


def db_states(engine, unit: int | None = None, plan: int | None = None) -> dict[str, dict]:
    with engine.context() as ctx:
        query = sa.select(Task.plan_id, Task.status, sa.func.count()).group_by(
            Task.plan_id, Task.status
        )
        if unit is not None:
            led = sa.select(TaskUnit.task_id).where(
                TaskUnit.unit_id == unit, TaskUnit.role == "lead"
            )
            query = query.where(Task.id.in_(led))
        if plan is not None:
            query = query.where(Task.plan_id == plan)
        result: dict[str, dict[str, int]] = {}
        for key, status, count in ctx.session.execute(query):
            result.setdefault(str(key), {})[status] = count
        return result


def test_the_states_chart_has_the_numbers_of_the_database(seeded, english, make_plan):
    make_plan(many(3), code="drafts", number="5/KH-SKHCN", start=False)
    with seeded.context() as ctx:
        svc.cancel_task(ctx, user(ctx, "vps.office"), task_by_ref(ctx, "test-plan", "3"), "Trùng")
    sign_in(english, "skhcn.director")
    page = english.get("/board").get_data(as_text=True)
    shown = chart(page)
    assert shown == db_states(seeded)
    test_plan, drafts = str(plan_id(seeded, "test-plan")), str(plan_id(seeded, "drafts"))
    assert shown[test_plan] == {"in_progress": 2, "waiting": 1, "cancelled": 1}
    assert shown[drafts] == {"draft": 3}
    # accessible text: the numbers are in the chart's description and each bar's title
    desc = re.search(r'<desc id="states-desc">(.*?)</desc>', page, re.S)[1]
    assert "1/KH-SKHCN — 4 tasks: Waiting for guidance 1, In progress 2, Cancelled 1." in desc
    assert "5/KH-SKHCN — 3 tasks: Draft 3." in desc
    assert 'aria-labelledby="states-title states-desc"' in page
    legend = page[page.index('class="legend"') :].split("</ul>")[0]
    assert all(f"state-{state}" in legend for state in STATES)
    assert "Superseded" in legend


def test_the_states_chart_follows_the_board_filters(seeded, english, make_plan):
    make_plan(many(3, lead="Phòng Quản lý KH&CN"), code="two", number="6/KH-SKHCN")
    sign_in(english, "skhcn.director")
    two = plan_id(seeded, "two")
    by_plan = chart(english.get(f"/board?plan={two}").get_data(as_text=True))
    assert by_plan == db_states(seeded, plan=two) == {str(two): {"in_progress": 3}}
    qlkhcn = unit_id(seeded, "QLKHCN")
    by_unit = chart(english.get(f"/board?unit={qlkhcn}").get_data(as_text=True))
    assert by_unit == db_states(seeded, unit=qlkhcn)
    assert sum(sum(s.values()) for s in by_unit.values()) == 5  # 2 of test-plan, 3 of two


def test_the_states_chart_stays_in_the_organisation(app, engine, english):
    _seeds(engine)
    sign_in(english, "vinhtuy.office")
    shown = chart(english.get("/board").get_data(as_text=True))
    with engine.context() as ctx:
        ward = ctx.session.scalars(sa.select(Plan.id).where(Plan.code.like("vinhtuy%"))).all()
    assert set(shown) == {str(i) for i in ward}
