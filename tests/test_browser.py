"""End to end in a real browser: Debian's Chromium, driven by Playwright, against
`nhiemvu serve`. A unit head reports an overdue task done, the Office accepts the report, and
leadership sees the unit's overdue count fall.

Skipped, with the reason shown, only where no Chromium can be installed (.ci/run installs it).
"""

from __future__ import annotations

import re
import shutil

import pytest

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
