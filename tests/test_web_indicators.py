"""The indicator page and its form, the plan page's indicators, and the board's indicators view,
through the real web app on the seed plans."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, post_form, sign_in, user
from tests.test_indicators import SKHCN, VINHTUY, indicator_id, plan_id, report, value_count
from tests.test_indicators import seeded as seeded
from workflow.models import IndicatorValue


def ids(engine, plan: str, ref: str) -> tuple[str, int]:
    with engine.context(write=False) as ctx:
        return f"/plans/{plan}/indicators/{indicator_id(ctx, plan, ref)}", plan_id(ctx, plan)


def statuses(html: str) -> dict[str, str]:
    """Each indicator row's status on a page: {indicator id: status}."""
    rows = re.findall(r'data-indicator="(\d+)".*?data-status="(\w+)"', html, re.S)
    return dict(rows)


@pytest.fixture
def web(seeded, app, client):
    return client


def test_a_lead_unit_reports_a_value_on_the_indicator_page(seeded, web):
    page, _ = ids(seeded, SKHCN, "I.3")
    sign_in(web, "ttkd.head")
    html = web.get(page).get_data(as_text=True)
    assert "≥ 40" in html and 'name="value"' in html
    assert re.search(r'name="period"[^>]*value="2026"', html)  # the current year by default
    assert 'name="assessment"' not in html  # a numeric target judges itself
    response = post_form(
        web,
        f"{page}/values",
        {"period": "2026", "value": "45,5 %", "source_note": "Điều tra doanh nghiệp"},
        form_page=page,
    )
    assert response.status_code == 302 and response.location.endswith(page)
    html = web.get(page).get_data(as_text=True)
    history = html[html.index('id="indicator-history"') :]
    assert "45,5 %" in history and "Điều tra doanh nghiệp" in history
    assert "Trung tâm Kiểm định" in history and 'data-status="met"' in history
    with seeded.context(write=False) as ctx:
        row = ctx.session.scalar(sa.select(IndicatorValue))
        assert (row.value_text, float(row.value), row.reported_by.username) == (
            "45,5 %",
            45.5,
            "ttkd.head",
        )


def test_a_refused_value_names_the_field_and_writes_nothing(seeded, web):
    page, _ = ids(seeded, SKHCN, "I.3")
    sign_in(web, "ttkd.head")
    for data, field in (
        ({"period": "2026", "value": "0.45"}, "value"),
        ({"period": "2027", "value": "45"}, "period"),
        ({"period": "năm nay", "value": "45"}, "period"),
    ):
        web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        response = post_form(web, f"{page}/values", data, form_page=page)
        assert response.status_code == 400
        assert f'<p class="error">{field}:' in response.get_data(as_text=True)
    assert value_count(seeded) == 0


def test_a_target_in_words_asks_whether_it_is_met(seeded, web):
    page, _ = ids(seeded, SKHCN, "I.1")
    sign_in(web, "vps.head")
    assert 'name="assessment"' in web.get(page).get_data(as_text=True)
    refused = post_form(web, f"{page}/values", {"period": "2026", "value": "Đạt"}, form_page=page)
    assert refused.status_code == 400 and value_count(seeded) == 0
    data = {"period": "2026", "value": "Đạt mức trung bình", "assessment": "not_met"}
    assert post_form(web, f"{page}/values", data, form_page=page).status_code == 302
    assert 'data-status="not_met"' in web.get(page).get_data(as_text=True)


def signed_in(app, username: str):
    client = app.test_client()
    sign_in(client, username)
    return client


def test_a_cooperating_unit_reads_but_does_not_report_and_others_do_neither(seeded, web, app):
    page, _ = ids(seeded, SKHCN, "I.3")  # led by the Centre; the Department's divisions cooperate
    sign_in(web, "qltdc.head")
    html = web.get(page).get_data(as_text=True)
    assert "≥ 40" in html and 'name="value"' not in html
    token = csrf_token(web, "/unit")
    response = web.post(
        f"{page}/values", data={"period": "2026", "value": "45", "csrf_token": token}
    )
    assert response.status_code == 403 and value_count(seeded) == 0
    assert signed_in(app, "stp.head").get(page).status_code == 403  # another department


def test_the_plan_page_links_each_indicator_with_its_latest_value(seeded, web):
    report(seeded, "qlkhcn.head", "I.6", "60")
    page, _ = ids(seeded, SKHCN, "I.6")
    sign_in(web, "vps.office")
    html = web.get(f"/plans/{SKHCN}").get_data(as_text=True)
    assert f'href="{page}"' in html
    found = statuses(html)
    assert found[page.rsplit("/", 1)[1]] == "not_met" and list(found.values()).count("no_data") == 7


def test_vinh_tuy_codes_are_shown(seeded, web):
    sign_in(web, "vinhtuy.office")
    _, plan = ids(seeded, VINHTUY, "01")
    html = web.get(f"/board/plans/{plan}/indicators").get_data(as_text=True)
    for code in ("0407", "0408", "0409", "0410", "0411", "0412"):
        assert f"<td>{code}</td>" in html
    assert 'data-status="no_data" data-count="6"' in html


def test_the_board_shows_a_plans_indicators_as_of_a_day(seeded, web, clock):
    from datetime import date

    report(seeded, "ttkd.head", "I.3", "45")
    report(seeded, "qlkhcn.head", "I.6", "60")
    clock.set(date(2026, 11, 25))
    report(seeded, "qlkhcn.head", "I.6", "50")  # corrected
    _, plan = ids(seeded, SKHCN, "I.3")
    sign_in(web, "skhcn.director")
    board = web.get("/board?kind=all").get_data(as_text=True)
    assert f"/board/plans/{plan}/indicators" in board
    html = web.get(f"/board/plans/{plan}/indicators?as_of=24/11/2026").get_data(as_text=True)
    assert 'data-status="met" data-count="1"' in html
    assert 'data-status="not_met" data-count="1"' in html and ">60<" in html
    html = web.get(f"/board/plans/{plan}/indicators?as_of=2026-11-25").get_data(as_text=True)
    assert (
        'data-status="met" data-count="2"' in html
        and 'data-status="not_met" data-count="0"' in html
    )
    assert web.get(f"/board/plans/{plan}/indicators?as_of=hôm qua").status_code == 400
    # what the board's other filters carry along does not concern this view
    assert web.get(f"/board/plans/{plan}/indicators?kind=x&unit=abc").status_code == 200


def test_the_board_view_is_for_the_organisation_that_sees_everything(seeded, app):
    _, plan = ids(seeded, SKHCN, "I.3")
    assert signed_in(app, "qlkhcn.head").get(f"/board/plans/{plan}/indicators").status_code == 403
    elsewhere = signed_in(app, "vinhtuy.office")
    assert elsewhere.get(f"/board/plans/{plan}/indicators").status_code == 403
    assert elsewhere.get("/board/plans/999999/indicators").status_code == 404


def test_the_demo_records_values_of_each_status(engine):
    from workflow.demo import load_demo
    from workflow.indicators import Status, indicator_standings, status_counts

    with engine.context() as ctx:
        load_demo(ctx)
    with engine.context() as ctx:
        load_demo(ctx)  # again: nothing more recorded
    with engine.context(write=False) as ctx:
        assert ctx.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)) == 5
        counts = status_counts(indicator_standings(ctx.session, plan_id(ctx, SKHCN), ctx.today()))
        assert (
            counts[Status.MET] == 3 and counts[Status.NOT_MET] == 1 and counts[Status.NO_DATA] == 4
        )
        assert user(ctx, "ttkd.head").unit_id in {
            row.unit_id for row in ctx.session.scalars(sa.select(IndicatorValue))
        }


def test_my_unit_lists_the_indicators_the_unit_reports_with_their_latest_values(seeded, web):
    """A unit head cannot open the plan page; My unit leads them to their indicators."""
    report(seeded, "qlkhcn.head", "I.6", "52,4 %")
    sign_in(web, "qlkhcn.head")
    html = web.get("/unit").get_data(as_text=True)
    section = html[html.index('id="unit-indicators"') :]
    pii, pii_2045 = ids(seeded, SKHCN, "I.6")[0], ids(seeded, SKHCN, "II.2")[0]
    assert f'href="{pii}"' in section and f'href="{pii_2045}"' in section
    assert ids(seeded, SKHCN, "I.3")[0] not in section  # led by another unit
    assert "52,4 %" in section
    page = web.get(pii).get_data(as_text=True)
    assert 'href="/unit#unit-indicators"' in page and 'href="/plans"' not in page
    post_form(web, "/logout", {}, form_page="/unit")
    sign_in(web, "qltdc.head")  # a unit that leads no indicator sees no such section
    html = web.get("/unit").get_data(as_text=True)
    assert "Phòng Quản lý Tiêu chuẩn" in html  # signed in as QLTDC's head now
    assert 'id="unit-indicators"' not in html
