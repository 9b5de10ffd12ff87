"""The Office's consolidated report on a plan for a reporting period: the engine's figures are
the overdue board's, the Word report and the Excel annex carry them (read back with python-docx
and openpyxl, and rendered by LibreOffice), and making them changes nothing."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from tests.conftest import sign_in, task_by_ref, user
from tests.test_cli import nhiemvu, ok, refused
from tests.test_web_office_board import snapshot as office_snapshot
from workflow import board
from workflow import tasks as svc
from workflow.classify import DueClass
from workflow.consolidated import (
    INDICATOR_HEADER,
    TABLE_HEADER,
    build_report,
    indicator_rows,
    table_rows,
)
from workflow.errors import InvalidInput, NotFound, PermissionDenied
from workflow.indicators import indicator_standings, record_indicator_value
from workflow.models import BoardStamp, Indicator, Report
from workflow.report_docx import MOTTO, NATION, build_docx
from workflow.report_xlsx import FIGURES_SHEET, INDICATORS_SHEET, RESULTS_SHEET, build_xlsx

TODAY = date(2026, 11, 27)
SECTION_ROWS = [
    ["I", "Nâng cao nhận thức", "", "", ""],
    ["1", "Việc xong đúng hạn", "Phòng Quản lý KH&CN", "", "10/2026"],
    ["2", "Việc xong muộn", "Phòng Quản lý KH&CN", "", "9/2026"],
    ["3", "Việc quá hạn", "Phòng Quản lý TĐC", "", "10/2026"],
    ["II", "Hoàn thiện thể chế", "", "", ""],
    ["1", "Việc chưa đến hạn", "Phòng Quản lý KH&CN", "", "6/2027"],
    ["2", "Việc chờ hướng dẫn", "Phòng Quản lý TĐC", "", "Sau khi có hướng dẫn của Trung ương"],
]
INDICATOR_ROWS = [
    ["1", "0407", "Tỷ lệ doanh nghiệp đổi mới sáng tạo", "%", "≥ 40", "Phòng Quản lý KH&CN"],
    ["2", "0408", "Chỉ số đổi mới sáng tạo (PII)", "Thứ bậc", "≤ 55", "Phòng Quản lý KH&CN"],
    ["3", "0409", "Doanh thu dịch vụ KH&CN", "Tỷ đồng", "", "Phòng Quản lý TĐC"],
    ["4", "0410", "Số người nghiên cứu", "Người/vạn dân", "10", "Phòng Quản lý TĐC"],
]
LACK = "Thiếu kinh phí, đề nghị bổ sung dự toán"
LATE = "Chậm do chờ số liệu của các xã"


def _report(engine, clock, day: date, ref: str, who: str, progress: int, **extra) -> int:
    clock.set(day)
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        return svc.submit_report(
            ctx,
            user(ctx, who),
            task,
            text=f"Kết quả {ref} ngày {day:%d/%m}",
            progress=progress,
            **extra,
        ).id


def _indicator(engine, clock, day: date, code: str, who: str, value: str) -> None:
    clock.set(day)
    with engine.context() as ctx:
        indicator = ctx.session.scalar(sa.select(Indicator).where(Indicator.code == code))
        record_indicator_value(
            ctx, user(ctx, who), indicator.id, "2026", value, source_note=f"Thống kê {code}"
        )


def _review(engine, clock, day: date, report_id: int, reason: str = "") -> None:
    clock.set(day)
    with engine.context() as ctx:
        office = user(ctx, "vps.office")
        if reason:
            svc.return_report(ctx, office, report_id, reason)
        else:
            svc.accept_report(ctx, office, report_id)


@pytest.fixture
def scenario(make_plan, engine, clock):
    """A plan of the Department issued 20 Aug 2026 with the national regime, started 1 Sep:
    one task done on time, one done late, one overdue, one not yet due, one waiting for central
    guidance; difficulties reported along the way; today is 27 Nov 2026."""
    clock.set(date(2026, 9, 1))
    make_plan(SECTION_ROWS, issued_on="2026-08-20", indicators=INDICATOR_ROWS)
    _indicator(engine, clock, date(2026, 10, 15), "0407", "qlkhcn.head", "45,5 %")
    _indicator(engine, clock, date(2026, 10, 16), "0408", "qlkhcn.head", "hạng 60")
    _indicator(engine, clock, date(2026, 12, 1), "0408", "qlkhcn.head", "hạng 50")  # after 27/11
    _indicator(engine, clock, date(2026, 10, 17), "0409", "qltdc.head", "12")
    done = _report(engine, clock, date(2026, 10, 20), "I.1", "qlkhcn.head", 100)
    _review(engine, clock, date(2026, 10, 21), done)
    late = _report(engine, clock, date(2026, 10, 5), "I.2", "qlkhcn.head", 100)
    _review(engine, clock, date(2026, 10, 6), late)
    _report(engine, clock, date(2026, 11, 10), "I.3", "qltdc.head", 50, difficulties=LATE)
    refused_one = _report(
        engine, clock, date(2026, 10, 1), "II.1", "qlkhcn.head", 30, difficulties="Bị trả lại"
    )
    _review(engine, clock, date(2026, 10, 2), refused_one, reason="Thiếu số liệu")
    _report(engine, clock, date(2026, 11, 20), "II.1", "qlkhcn.head", 40, difficulties=LACK)
    clock.set(TODAY)
    return engine


def _build(engine, username: str = "vps.office", period: str = "2026-Q4", plan: str = "test-plan"):
    with engine.context(write=False) as ctx:
        report = build_report(ctx, user(ctx, username), plan, period)
        return report, build_docx(report), build_xlsx(report)


def _stamp(engine) -> tuple:
    with engine.context(write=False) as ctx:
        stamps = tuple(ctx.session.scalars(sa.select(BoardStamp.stamp)))
        reports = tuple(ctx.session.execute(sa.select(Report.id, Report.status, Report.text)))
    return office_snapshot(engine), stamps, reports


# --- the engine ----------------------------------------------------------------------------------


def test_figures_are_the_boards_and_each_task_has_its_class_as_of_today(scenario):
    with scenario.context(write=False) as ctx:
        report = build_report(ctx, user(ctx, "vps.office"), "test-plan", "2026-Q4")
        scope = board.organisation_unit_ids(ctx.session, user(ctx, "vps.office"))
        (plan,) = board.per_plan(ctx.session, TODAY, scope, plan_id=report.plan.id)
        units = board.per_unit(ctx.session, TODAY, scope, plan_id=report.plan.id)
        waiting = [w.task.name for w in report.waiting]
    assert report.as_of == TODAY < report.period.nominal_date  # 14/12 is still ahead
    assert report.period.nominal_date == date(2026, 12, 14) and report.period_words == "quý IV/2026"
    assert report.overall.classes == plan.classes
    assert [(u.name, u.classes) for u in report.by_unit] == [(u.name, u.classes) for u in units]
    assert report.overall.classes == dict.fromkeys(DueClass, 1)  # one task of each class
    by_name = {t.name: t for t in report.tasks}
    assert {name: t.due_class for name, t in by_name.items()} == {
        "Việc xong đúng hạn": DueClass.COMPLETED_ON_TIME,
        "Việc xong muộn": DueClass.COMPLETED_LATE,
        "Việc quá hạn": DueClass.OVERDUE,
        "Việc chưa đến hạn": DueClass.NOT_YET_DUE,
        "Việc chờ hướng dẫn": None,
    }
    assert {name: t.state for name, t in by_name.items()} == {
        "Việc xong đúng hạn": "closed",
        "Việc xong muộn": "closed",
        "Việc quá hạn": "reported",
        "Việc chưa đến hạn": "reported",
        "Việc chờ hướng dẫn": "waiting",
    }
    assert by_name["Việc chưa đến hạn"].progress == 40
    assert by_name["Việc chưa đến hạn"].report_date == date(2026, 11, 20)
    assert [s.title for s in report.sections] == ["Nâng cao nhận thức", "Hoàn thiện thể chế"]
    assert waiting == ["Việc chờ hướng dẫn"]
    # the returned report's difficulties are not counted; the others under the unit that wrote
    assert [(d.unit, [i.text for i in d.items]) for d in report.difficulties] == [
        ("Phòng Quản lý Khoa học và Công nghệ", [LACK]),
        ("Phòng Quản lý Tiêu chuẩn Đo lường Chất lượng", [LATE]),
    ]


def test_a_past_period_is_as_of_its_report_date(scenario):
    with scenario.context(write=False) as ctx:
        report = build_report(ctx, user(ctx, "vps.office"), "test-plan", "2026-11")
        scope = board.organisation_unit_ids(ctx.session, user(ctx, "vps.office"))
        (plan,) = board.per_plan(ctx.session, report.as_of, scope, plan_id=report.plan.id)
    assert report.as_of == date(2026, 11, 14) == report.period.nominal_date
    by_name = {t.name: t for t in report.tasks}
    later = by_name["Việc chưa đến hạn"]  # its report of 20/11 came after the report date
    assert later.report_date is None and later.progress == 0 and later.state == "in_progress"
    assert [i.text for d in report.difficulties for i in d.items] == [LATE]
    assert report.overall.classes == plan.classes


def test_making_the_report_changes_nothing(scenario):
    before = _stamp(scenario)
    _build(scenario)
    _build(scenario, username="skhcn.director", period="2026-H2")
    assert _stamp(scenario) == before


@pytest.mark.parametrize(
    ("period", "says"),
    [
        ("2026-Q5", "period: '2026-Q5' is not a period (2026, 2026-H1, 2026-Q4 or 2026-11)"),
        ("quý 4", "is not a period (2026, 2026-H1, 2026-Q4 or 2026-11)"),
        ("2027-Q1", "has no reporting period 2027-Q1"),  # not begun
        ("2025-Q4", "has no reporting period 2025-Q4"),  # before the plan was issued
    ],
)
def test_a_bad_period_gets_one_message(scenario, period, says):
    with pytest.raises(InvalidInput) as refused_period:
        _build(scenario, period=period)
    assert says in str(refused_period.value)


def test_a_plan_reporting_annually_has_no_quarter(make_plan, clock):
    make_plan(SECTION_ROWS[1:2], code="hang-nam", number="9/KH-SKHCN", regime="annual:12/04")
    with pytest.raises(InvalidInput) as no_quarter:
        _build(make_plan.engine, plan="9/KH-SKHCN")
    assert str(no_quarter.value) == (
        "plan 9/KH-SKHCN has no reporting period 2026-Q4 (its regime: annual:12/04); "
        "its periods up to now: 2026, 2025"
    )


def test_who_may_make_it(scenario):
    _build(scenario, username="skhcn.director")  # leadership
    with pytest.raises(PermissionDenied):
        _build(scenario, username="qlkhcn.head")
    with pytest.raises(PermissionDenied, match="another organisation"):
        _build(scenario, username="vinhtuy.office")
    with pytest.raises(NotFound, match="plan 'khong-co' does not exist"):
        _build(scenario, plan="khong-co")


# --- the files -----------------------------------------------------------------------------------


def _docx_table_rows(document, header: tuple[str, ...]) -> list[list[str]]:
    for table in document.tables:
        cells = [c.text for c in table.rows[0].cells]
        if tuple(cells) == header:
            return [[c.text for c in row.cells] for row in table.rows[1:]]
    raise AssertionError(f"no table with header {header}")


def test_the_word_report_is_laid_out_as_an_administrative_document(scenario):
    report, data, _ = _build(scenario)
    document = Document(io.BytesIO(data))
    first = document.sections[0]
    measures = (first.page_width, first.page_height, first.top_margin, first.bottom_margin)
    measures += (first.left_margin, first.right_margin)
    assert [round(m.cm, 2) for m in measures] == [21, 29.7, 2, 2, 3, 2]  # A4, Decree 30
    assert any(s.page_width > s.page_height for s in document.sections)  # the wide table
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt in (13, 14)
    fonts = normal.element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "Times New Roman"

    header = document.tables[0]
    left, right = (cell.paragraphs for cell in header.rows[0].cells)
    assert [p.text for p in left if p.text] == [
        "ỦY BAN NHÂN DÂN TỈNH LAI CHÂU",
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        "Số: …/BC-SKHCN",
    ]
    lines = {p.text: p for p in right if p.text}
    assert list(lines) == [NATION, MOTTO, "Lai Châu, ngày 27 tháng 11 năm 2026"]
    assert all(run.bold for run in lines[NATION].runs + lines[MOTTO].runs)
    assert lines[MOTTO].runs[0].font.size.pt == 14
    assert all(run.italic for run in lines["Lai Châu, ngày 27 tháng 11 năm 2026"].runs)
    text = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in text
    assert "Kết quả thực hiện Kế hoạch số 1/KH-SKHCN kỳ quý IV/2026" in text
    assert "(Số liệu tính đến ngày 27/11/2026)" in text
    parts = [t for t in text if t.split(". ")[0] in ("I", "II", "III", "IV", "V")]
    assert parts == [
        "I. KẾT QUẢ CHUNG",
        "II. KẾT QUẢ THỰC HIỆN TỪNG NHIỆM VỤ",
        "III. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU",
        "IV. NHIỆM VỤ CHỜ HƯỚNG DẪN CỦA TRUNG ƯƠNG",
        "V. KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT, KIẾN NGHỊ",
    ]
    assert any(LACK in t for t in text) and any(LATE in t for t in text)
    assert not any("Bị trả lại" in t for t in text)
    assert "Nơi nhận:" in [p.text for p in document.tables[-1].rows[0].cells[0].paragraphs]

    classes = _docx_table_rows(document, ("STT", "Phân loại", "Số lượng", "Tỷ lệ"))
    assert [(r[1], int(r[2])) for r in classes[:4]] == [
        (c, report.overall.classes[k]) for k, c in zip(DueClass, _class_words(), strict=True)
    ]
    assert classes[4][1:3] == ["Tổng cộng", str(report.overall.total)]


def _class_words() -> list[str]:
    return ["Hoàn thành đúng hạn", "Hoàn thành quá hạn", "Chưa đến hạn", "Quá hạn"]


def test_the_excel_annex_has_the_rows_of_the_word_table(scenario):
    report, data, book_bytes = _build(scenario)
    words = _docx_table_rows(Document(io.BytesIO(data)), TABLE_HEADER)
    book = load_workbook(io.BytesIO(book_bytes))
    sheet = book[RESULTS_SHEET]
    header_row = next(
        row[0].row for row in sheet.iter_rows() if tuple(c.value for c in row) == TABLE_HEADER
    )
    assert sheet.freeze_panes == f"A{header_row + 1}"
    assert sheet.auto_filter.ref == f"A{header_row}:H{sheet.max_row}"
    cells = list(sheet.iter_rows(min_row=header_row + 1, values_only=True))
    rows = table_rows(report)
    assert len(cells) == len(words) == len(rows) == 7  # two sections, five tasks
    for shown, written, row in zip(cells, words, rows, strict=True):
        if row.heading:  # the title runs across the Word table
            assert shown[:2] == tuple(written[:2]) == row.cells[:2]
            continue
        assert shown[:4] == tuple(written[:4]) == row.cells[:4]
        assert shown[4] == int(written[4]) == row.cells[4] and isinstance(shown[4], int)
        assert (shown[6].date() if shown[6] else None) == row.cells[6]
        assert written[6] == (f"{row.cells[6]:%d/%m/%Y}" if row.cells[6] else "")
        assert (shown[5] or "") == written[5] == row.cells[5]  # an empty cell reads None
        assert (shown[7] or "") == written[7] == row.cells[7]
    dated = [c for c in sheet["G"][header_row:] if c.value is not None]
    assert dated and all(
        isinstance(c.value, datetime) and c.number_format == "dd/mm/yyyy" for c in dated
    )
    tasks = {t.name: t for t in report.tasks}
    task_rows = {r[1]: r for r in cells if r[2]}
    assert task_rows["Việc quá hạn"][7] == "Quá hạn"
    assert task_rows["Việc chưa đến hạn"][4] == tasks["Việc chưa đến hạn"].progress == 40
    figures = book[FIGURES_SHEET]
    values = [row for row in figures.iter_rows(values_only=True) if row[1] in _class_words()]
    by_class = {row[1]: row[2] for row in values[:4]}
    assert by_class == {
        w: report.overall.classes[c] for c, w in zip(DueClass, _class_words(), strict=True)
    }
    unit_rows = {
        row[1]: row[2:6]
        for row in figures.iter_rows(values_only=True)
        if row[1] and str(row[1]).startswith("Phòng")
    }
    assert unit_rows == {u.name: tuple(u.classes[c] for c in DueClass) for u in report.by_unit}


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_renders_the_word_report(scenario, tmp_path):
    _, data, _ = _build(scenario)
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(data)
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = tmp_path / "bao-cao.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        pages = subprocess.run(
            ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        text = " ".join(pages.split())
        assert NATION in text and MOTTO in text and "Việc quá hạn" in text
        assert pages.count("\f") >= 3  # portrait, landscape for the table, portrait again


# --- the command and the web app -----------------------------------------------------------------


def test_the_command_writes_both_files(scenario, tmp_path):
    url = scenario.settings.database_url
    base = ("--database-url", url, "--today", TODAY.isoformat(), "report", "--plan", "1/KH-SKHCN")
    before = _stamp(scenario)
    word, annex = tmp_path / "bc.docx", tmp_path / "bc.xlsx"
    said = ok(
        nhiemvu(tmp_path, *base, "--period", "2026-Q4", "-o", str(word), "--as", "vps.office")
    )
    assert said == f"{word}: report on 1/KH-SKHCN for 2026-Q4, as of 27/11/2026, 5 tasks\n"
    ok(nhiemvu(tmp_path, *base, "--period", "2026-Q4", "--format", "xlsx", "-o", str(annex)))
    assert Document(str(word)).tables and load_workbook(annex)[RESULTS_SHEET].freeze_panes
    assert "period: '2026-Q9' is not a period" in refused(
        nhiemvu(tmp_path, *base, "--period", "2026-Q9")
    )
    assert "qlkhcn.head (unit_head) may not view" in refused(
        nhiemvu(tmp_path, *base, "--period", "2026-Q4", "--as", "qlkhcn.head")
    )
    assert _stamp(scenario) == before


def test_office_and_leadership_download_it_a_unit_head_may_not(scenario, app):
    for username, fmt in (("vps.office", "docx"), ("skhcn.director", "xlsx")):
        client = app.test_client()
        sign_in(client, username)
        page = client.get("/plans/test-plan").get_data(as_text=True)
        assert 'id="report-form"' in page and 'value="2026-Q4"' in page
        assert 'value="2027-Q1"' not in page
        # November's report date (14/11) has come: it is chosen; the quarter's is still ahead
        assert 'value="2026-11" selected' in page and 'value="2026-Q4" selected' not in page
        response = client.get(f"/plans/test-plan/report?period=2026-Q4&format={fmt}")
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert (
            disposition.startswith("attachment")
            and f"bao-cao-test-plan-2026-Q4.{fmt}" in disposition
        )
        loaded = (
            Document(io.BytesIO(response.data))
            if fmt == "docx"
            else load_workbook(io.BytesIO(response.data))
        )
        assert loaded is not None
    board_page = client.get(f"/board?plan={_plan_id(scenario)}").get_data(as_text=True)
    assert 'id="report-form"' in board_page
    bad = client.get("/plans/test-plan/report?period=2026-Q9&format=docx")
    assert bad.status_code == 400 and "2026-Q9" in bad.get_data(as_text=True)
    pdf = client.get("/plans/test-plan/report?period=2026-Q4&format=pdf")
    assert pdf.status_code == 400 and "&#39;pdf&#39;" in pdf.get_data(as_text=True)
    head = app.test_client()
    sign_in(head, "qlkhcn.head")
    assert head.get("/plans/test-plan/report?period=2026-Q4&format=docx").status_code == 403


def _plan_id(engine) -> int:
    with engine.context(write=False) as ctx:
        return task_by_ref(ctx, "test-plan", "I.1").plan_id


def test_a_unit_writes_difficulties_with_its_report_on_the_task_page(scenario, app):
    from tests.conftest import post_form

    client = app.test_client()
    sign_in(client, "qltdc.head")
    with scenario.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "I.3")
        task_id, version = task.id, task.version
        item = svc.open_items(ctx, task)[0]
        period = f"{item.kind}:{item.period_key}"
    page = f"/tasks/{task_id}"
    response = post_form(
        client,
        f"{page}/report",
        {
            "period": period,
            "text": "Đã khảo sát",
            "progress": "60",
            "difficulties": "Đề nghị gia hạn đến quý I/2027",
            "version": version,
        },
        form_page=page,
    )
    assert response.status_code == 302
    assert "Đề nghị gia hạn đến quý I/2027" in client.get(page).get_data(as_text=True)
    with scenario.context(write=False) as ctx:
        latest = ctx.session.scalar(sa.select(Report).order_by(Report.id.desc()).limit(1))
        assert latest.difficulties == "Đề nghị gia hạn đến quý I/2027"


def test_indicators_against_their_targets_are_the_boards_in_both_files(scenario):
    """The indicators part carries each indicator's latest value as of the report's date (a
    value reported after it is not there), judged as the board's indicators view judges it."""
    _, word, excel = _build(scenario)
    with scenario.context(write=False) as ctx:
        report = build_report(ctx, user(ctx, "vps.office"), "test-plan", "2026-Q4")
        rows = [list(row.cells) for row in indicator_rows(report)]
        standings = indicator_standings(ctx.session, report.plan.id, TODAY)
    assert [s.status.value for s in standings] == ["met", "not_met", "no_target", "no_data"]
    expected = [
        [
            "1",
            "0407",
            "Tỷ lệ doanh nghiệp đổi mới sáng tạo",
            "%",
            "≥ 40",
            "45,5 %",
            "năm 2026",
            "Thống kê 0407",
            "Đạt",
        ],
        [
            "2",
            "0408",
            "Chỉ số đổi mới sáng tạo (PII)",
            "Thứ bậc",
            "≤ 55",
            "hạng 60",
            "năm 2026",
            "Thống kê 0408",
            "Không đạt",
        ],
        [
            "3",
            "0409",
            "Doanh thu dịch vụ KH&CN",
            "Tỷ đồng",
            "",
            "12",
            "năm 2026",
            "Thống kê 0409",
            "Không có mục tiêu",
        ],
        ["4", "0410", "Số người nghiên cứu", "Người/vạn dân", "10", "", "", "", "Chưa có số liệu"],
    ]
    assert rows == expected

    document = Document(io.BytesIO(word))
    (table,) = [
        t for t in document.tables if [c.text for c in t.rows[0].cells] == list(INDICATOR_HEADER)
    ]
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == expected

    sheet = load_workbook(io.BytesIO(excel))[INDICATORS_SHEET]
    header_row = next(r for r in sheet.iter_rows(values_only=True) if r[:2] == ("STT", "Mã số"))
    assert list(header_row) == list(INDICATOR_HEADER)
    rows = list(sheet.iter_rows(values_only=True))
    body = [[c or "" for c in r] for r in rows[rows.index(header_row) + 1 :]]
    assert body == expected
    assert sheet.freeze_panes == f"A{rows.index(header_row) + 2}"


def test_what_units_type_cannot_break_the_files(scenario, clock):
    """A bell or a form feed pasted into a report, or a text starting with '=', reaches the
    Word report as text and the Excel annex as text, never as a formula Excel would run."""
    formula = '=HYPERLINK("http://x.example","Xem")'
    _report(
        scenario,
        clock,
        date(2026, 11, 25),
        "I.3",
        "qltdc.head",
        60,
        difficulties="Chậm\x07 do\x0b thiếu",
    )
    with scenario.context() as ctx:
        report = ctx.session.scalars(sa.select(Report).order_by(Report.id.desc())).first()
        report.text = formula  # as if typed: the form keeps a leading '='
    clock.set(TODAY)
    _, word, excel = _build(scenario)
    text = "\n".join(p.text for p in Document(io.BytesIO(word)).paragraphs)
    assert "Chậm do\n thiếu" in text and "\x07" not in text
    sheet = load_workbook(io.BytesIO(excel))[RESULTS_SHEET]
    (cell,) = [c for row in sheet.iter_rows() for c in row if c.value == formula]
    assert cell.data_type == "s"


def test_a_past_period_shows_the_tasks_waiting_then(scenario, clock):
    """Released on 25/11, the task waiting for guidance is still listed as waiting in the
    October report (as of 14/10), and no longer in the quarter's (as of today)."""
    clock.set(date(2026, 11, 25))
    with scenario.context() as ctx:
        waiting = task_by_ref(ctx, "test-plan", "II.2")
        svc.record_trigger(
            ctx,
            user(ctx, "vps.office"),
            number="5/HD-BKHCN",
            issued_on=date(2026, 11, 24),
            issuer="Bộ Khoa học và Công nghệ",
            task_ids=[waiting.id],
        )
    clock.set(TODAY)
    with scenario.context(write=False) as ctx:
        october = build_report(ctx, user(ctx, "vps.office"), "test-plan", "2026-10")
        quarter = build_report(ctx, user(ctx, "vps.office"), "test-plan", "2026-Q4")
        states = {t.name: t.state for t in october.tasks}
        assert october.as_of == date(2026, 10, 14)
        assert [w.task.name for w in october.waiting] == ["Việc chờ hướng dẫn"]
        assert states["Việc chờ hướng dẫn"] == "waiting"
        assert quarter.waiting == []
        assert {t.name: t.state for t in quarter.tasks}["Việc chờ hướng dẫn"] == "in_progress"
