"""End to end in a real browser: Debian's Chromium, driven by Playwright, against
`nhiemvu serve`. A unit head reports an overdue task done, the Office accepts the report, and
leadership sees the unit's overdue count fall; a unit head copies a calendar address from the
Calendars page and a calendar parser finds every deadline in it.

Skipped, with the reason shown, only where no Chromium can be installed (.ci/run installs it).
"""

from __future__ import annotations

import re
import shutil
import urllib.request

import pytest
import sqlalchemy as sa
import vobject

from workflow import calendars
from workflow.config import load_settings
from workflow.context import Engine
from workflow.models import ImportUpload, Plan, Unit

CHROMIUM = shutil.which("chromium")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in(browser, base: str, username: str, password: str, locale: str = "en-US"):
    page = browser.new_context(locale=locale).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/login" not in page.url, f"{username} could not sign in"
    return page


def overdue_of(page, base: str, unit_name: str) -> int:
    page.goto(f"{base}/board")
    cell = page.locator(f'tr:has(a:text-is("{unit_name}")) td[data-class="overdue"]')
    return int(re.findall(r"\d+", cell.inner_text())[-1])


def test_a_report_accepted_by_the_office_lowers_the_overdue_count(browser, served):
    base, password = served
    leader = signed_in(browser, base, "skhcn.director", password)
    before = overdue_of(leader, base, "Văn phòng Sở")
    assert before >= 1

    head = signed_in(browser, base, "vps.head", password, locale="vi-VN")
    head.goto(f"{base}/unit")
    assert "Đơn vị của tôi" in head.content()
    head.click('a:has-text("đẩy mạnh tuyên truyền")')  # task I.1, due 3/2025, overdue
    head.select_option("#report-period", "deadline:deadline")
    head.fill("#report-text", "Đã tổ chức quán triệt Nghị quyết 57-NQ/TW tới toàn thể công chức.")
    head.fill("#report-progress", "100")
    with head.expect_navigation():
        head.click('form[action$="/report"] button[type=submit]')
    assert "Đã gửi báo cáo" in head.content()

    office = signed_in(browser, base, "vps.office", password)
    office.goto(f"{base}/office")
    row = office.locator('tr:has-text("Đã tổ chức quán triệt")')
    with office.expect_navigation():
        row.locator('form[action$="/accept"] button[type=submit]').click()
    assert "The report is accepted." in office.content()

    assert overdue_of(leader, base, "Văn phòng Sở") == before - 1
    head.goto(f"{base}/unit")
    assert "Đã xong (1)" in head.content() or "Done (1)" in head.content()


def test_a_feed_copied_from_the_calendars_page_holds_every_deadline(browser, served, tmp_path):
    """The issue's "done": the address copied with the page's button, fetched as a calendar
    client does (no session), parsed by another parser: every event, letter and day."""
    base, password = served
    head = signed_in(browser, base, "vps.head", password, locale="vi-VN")
    head.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    head.goto(f"{base}/calendars")
    head.select_option("#feed", label="Văn phòng Sở")
    with head.expect_navigation():
        head.click("#subscribe button[type=submit]")
    head.click("button[data-copy]")
    head.wait_for_function(
        "document.querySelector('button[data-copy]').textContent.trim() != 'Sao chép'"
    )
    assert head.locator("button[data-copy]").inner_text() == "Đã sao chép"
    url = head.evaluate("navigator.clipboard.readText()")
    assert url == head.input_value("#feed-url") and url.startswith(f"{base}/calendar/")

    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        got = {e.uid.value: e for e in vobject.readOne(response.read().decode("utf-8")).vevent_list}

    engine = Engine(load_settings(tmp_path))
    try:
        with engine.context(write=False) as ctx:
            vps = ctx.session.scalar(sa.select(Unit).where(Unit.code == "VPS"))
            window = calendars.Window.configured(ctx.settings, ctx.today())
            items = calendars.due_items(ctx.session, calendars.unit_feed(vps), window)
            expected = {f"due-{i.id}@127.0.0.1": (i.due_date, i.task.name) for i in items}
    finally:
        engine.close()
    assert len(expected) > 10 and set(got) == set(expected)
    for uid, (due, name) in expected.items():
        assert got[uid].dtstart.value == due
        assert f": {name}\n" in got[uid].description.value + "\n"


def test_the_office_uploads_a_workbook_previews_it_and_commits(browser, served, tmp_path):
    """An .xlsx chosen in the file field, its rows previewed as they will be stored, then
    committed: the plan's page shows the summary and the tasks, read back from the database."""
    from tests.test_importer import build_workbook

    base, password = served
    workbook = build_workbook(tmp_path / "ke-hoach-moi.xlsx")
    office = signed_in(browser, base, "vps.office", password)
    office.goto(f"{base}/plans")
    office.set_input_files("#import-document", str(workbook))
    with office.expect_navigation():
        office.click("#import-plan button[type=submit]")
    assert "/plans/imports/" in office.url
    assert office.locator("h1").inner_text() == "Import preview: ke-hoach-moi.xlsx"
    rows = office.locator("#preview-tasks tr[data-ref]")
    assert rows.count() == 3
    first = office.locator('#preview-tasks tr[data-ref="I.1"]')
    assert "Fixed deadline" in first.inner_text() and "30/06/2026" in first.inner_text()
    assert "Văn phòng Sở" in first.inner_text() and "New" in first.inner_text()
    assert office.locator("#preview-problems").count() == 0

    with office.expect_navigation():
        office.click("#commit-import button[type=submit]")
    assert office.url == f"{base}/plans/xlsx-2026"
    assert "3 tasks created, 0 updated, 0 unchanged, 2 indicators" in office.content()
    assert office.locator("table.appendix tr[data-task]").count() == 3

    engine = Engine(load_settings(tmp_path))
    try:
        with engine.context(write=False) as ctx:
            plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "xlsx-2026"))
            assert plan.number == "15/KH-SKHCN"
            assert sorted(t.ref for t in plan.tasks) == ["I.1", "I.2", "II.1"]
            assert ctx.session.scalar(sa.select(sa.func.count()).select_from(ImportUpload)) == 0
    finally:
        engine.close()
