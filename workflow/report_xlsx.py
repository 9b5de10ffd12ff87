"""The consolidated report's Excel annex: the task table of the Word report (the same rows,
from :func:`workflow.consolidated.table_rows`) under a block of title rows, its header frozen
and filtered, dates as Excel dates, progress as a number; and a second sheet with the figures
by class and by lead unit."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from workflow.classify import DueClass
from workflow.consolidated import (
    INDICATOR_HEADER,
    TABLE_HEADER,
    UNIT_HEADER,
    ConsolidatedReport,
    TableRow,
    indicator_rows,
    table_rows,
    unit_rows,
)
from workflow.text import plain_text
from workflow.wording import CLASS_VI, day

FONT = "Times New Roman"
DATE_FORMAT = "dd/mm/yyyy"
TASK_WIDTHS = (7, 55, 30, 16, 11, 60, 13, 20)
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
HEADER_ALIGN = Alignment(wrap_text=True, horizontal="center", vertical="center")
RESULTS_SHEET = "Kết quả từng nhiệm vụ"
FIGURES_SHEET = "Số liệu tổng hợp"
INDICATORS_SHEET = "Chỉ tiêu"
INDICATOR_WIDTHS = (7, 9, 50, 14, 30, 22, 14, 30, 16)


def _titles(sheet: Worksheet, report: ConsolidatedReport, heading: str, width: int) -> int:
    """The title rows across ``width`` columns; the row the table's header goes on."""
    lines = [
        (report.letterhead.issuing_body.upper(), Font(name=FONT, bold=True, size=12)),
        (heading, Font(name=FONT, bold=True, size=14)),
        (
            f"Kế hoạch số {report.plan.number}: {report.plan.title}",
            Font(name=FONT, italic=True, size=12),
        ),
        (
            f"Kỳ báo cáo: {report.period_words} · số liệu tính đến ngày {day(report.as_of)}",
            Font(name=FONT, italic=True, size=12),
        ),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        sheet.cell(row=row, column=1, value=text).font = font
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
    return len(lines) + 2


def _header(sheet: Worksheet, row: int, names: Sequence[str]) -> None:
    for column, name in enumerate(names, start=1):
        cell = sheet.cell(row=row, column=column, value=name)
        cell.font = Font(name=FONT, bold=True, size=12)
        cell.alignment, cell.border = HEADER_ALIGN, BOX


def _write_row(sheet: Worksheet, row: int, values: Sequence, bold: bool = False) -> None:
    for column, value in enumerate(values, start=1):
        text = isinstance(value, str)
        cell = sheet.cell(row=row, column=column, value=plain_text(value) if text else value)
        if text and cell.data_type == "f":
            cell.data_type = "s"  # what a unit wrote is text, never a formula Excel would run
        cell.font = Font(name=FONT, size=12, bold=bold)
        cell.alignment, cell.border = WRAP, BOX
        if isinstance(value, date):
            cell.number_format = DATE_FORMAT


def _table_sheet(
    sheet: Worksheet,
    report: ConsolidatedReport,
    heading: str,
    header: Sequence[str],
    rows: Sequence[TableRow],
    widths: Sequence[int],
) -> int:
    """A sheet that is one table under the title rows: frozen below its header, filtered,
    printed landscape on A4 one page wide with the header on every page. Returns the
    header's row."""
    top = _titles(sheet, report, heading, len(header))
    _header(sheet, top, header)
    for offset, row in enumerate(rows, start=1):
        _write_row(sheet, top + offset, row.cells, bold=row.heading)
    last = top + len(rows)
    sheet.freeze_panes = sheet.cell(row=top + 1, column=1)
    sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(header))}{max(last, top)}"
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.print_title_rows = f"{top}:{top}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return top


def _results(sheet: Worksheet, report: ConsolidatedReport) -> None:
    sheet.title = RESULTS_SHEET
    rows = table_rows(report)
    top = _table_sheet(
        sheet, report, "KẾT QUẢ THỰC HIỆN TỪNG NHIỆM VỤ", TABLE_HEADER, rows, TASK_WIDTHS
    )
    progress = TABLE_HEADER.index("Tiến độ (%)") + 1
    for offset in range(1, len(rows) + 1):
        sheet.cell(row=top + offset, column=progress).number_format = "0"


def _indicators(sheet: Worksheet, report: ConsolidatedReport) -> None:
    _table_sheet(
        sheet,
        report,
        "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU",
        INDICATOR_HEADER,
        indicator_rows(report),
        INDICATOR_WIDTHS,
    )


def _figures(sheet: Worksheet, report: ConsolidatedReport) -> None:
    row = _titles(sheet, report, "SỐ LIỆU TỔNG HỢP", len(UNIT_HEADER))
    counts = report.overall
    _header(sheet, row, ("STT", "Phân loại", "Số lượng"))
    for index, klass in enumerate(DueClass, start=1):
        _write_row(sheet, row + index, (index, CLASS_VI[klass], counts.classes[klass]))
    row += len(DueClass) + 1
    _write_row(sheet, row, ("", "Tổng cộng", counts.total), bold=True)
    row += 2
    sheet.cell(row=row, column=1, value="Theo đơn vị chủ trì").font = Font(name=FONT, bold=True)
    row += 1
    _header(sheet, row, UNIT_HEADER)
    for offset, values in enumerate(unit_rows(report), start=1):
        _write_row(sheet, row + offset, values)
    for column, width_chars in enumerate((7, 45, 16, 16, 16, 16, 16, 16), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width_chars


def build_xlsx(report: ConsolidatedReport) -> bytes:
    """The annex as the bytes of an .xlsx file."""
    book = Workbook()
    _results(book.active, report)
    _figures(book.create_sheet(FIGURES_SHEET), report)
    if report.indicators:
        _indicators(book.create_sheet(INDICATORS_SHEET), report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
