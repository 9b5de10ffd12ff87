"""Build the sample Word plan the demo can import, and the Word tables the tests build.

    python tools/sample_docx.py   # writes workflow/data/samples/phu-luc-ke-hoach-skhcn.docx

The demo loads every seed plan, so the sample is a whole plan of its own: Kế hoạch số
12/KH-SKHCN of the Sở Khoa học và Công nghệ, with the heading block of Decree 30, and as its
Phụ lục I and II the indicators and tasks of seed 002 (read from the seed CSVs). It is laid out
the way such appendices are: a header row repeated on each page, the "(1) (2) …" row, roman
section rows merged across, the same unit merged down over the rows it leads, cells of several
lines, and the tasks table split over two pages into two Word tables.

    nhiemvu import workflow/data/samples/phu-luc-ke-hoach-skhcn.docx
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.shared import Pt
from docx.table import Table

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "workflow" / "data" / "seeds"
SAMPLE = ROOT / "workflow" / "data" / "samples" / "phu-luc-ke-hoach-skhcn.docx"

Cell = str | list[str]  # "\n" is a line break inside a paragraph; a list holds paragraphs


@dataclass
class Section:
    """A roman-numeral row: the numeral, and the title merged across the rest of the row."""

    number: str
    title: str


Row = Sequence[Cell] | Section


def new_document() -> Document:
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    stamp = datetime(2025, 2, 10, 8, 0)  # a fixed date: rebuilding gives the same document
    document.core_properties.created = document.core_properties.modified = stamp
    document.core_properties.author = document.core_properties.last_modified_by = "nhiemvu"
    return document


def centred(document: Document, text: str, *, bold: bool = False) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run(text).bold = bold


def page_break(document: Document) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def heading_block(document: Document, issuer: list[str], number: str, place_date: str) -> None:
    """The Decree-30 block: the issuing body and number left, the national motto and date right."""
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "\n".join(issuer)
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    table.cell(1, 0).text = f"Số: {number}"
    table.cell(1, 1).text = place_date


def plan_heading(document: Document, title: str) -> None:
    centred(document, "KẾ HOẠCH", bold=True)
    centred(document, title, bold=True)
    centred(document, "____________")


def signature_block(document: Document, signer: list[str]) -> None:
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Nơi nhận:\n- Như trên;\n- Lưu: VT."
    table.cell(0, 1).text = "\n".join(signer)


def _write(cell, value: Cell) -> None:
    paragraphs = value if isinstance(value, list) else [value]
    cell.text = paragraphs[0] if paragraphs else ""
    for text in paragraphs[1:]:
        cell.add_paragraph(text)


def _repeat_on_each_page(table: Table, index: int) -> None:
    """Mark a row as a header row Word repeats at the top of each page (no public API)."""
    table.rows[index]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _text(value: Cell) -> str:
    return "\n".join(value) if isinstance(value, list) else value


def _merge_runs(table: Table, first: int, rows: Sequence[Row], columns: Sequence[int]) -> None:
    """Merge down equal neighbouring cells of ``columns`` (one lead unit for several rows)."""
    for column in columns:
        start = 0
        while start < len(rows):
            end = start
            row = rows[start]
            if not isinstance(row, Section) and _text(row[column]):
                while (
                    end + 1 < len(rows)
                    and not isinstance(rows[end + 1], Section)
                    and _text(rows[end + 1][column]) == _text(row[column])
                ):
                    end += 1
            if end > start:
                for below in range(start + 1, end + 1):
                    table.cell(first + below, column).text = ""
                table.cell(first + start, column).merge(table.cell(first + end, column))
            start = end + 1


def appendix_table(
    document: Document,
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    header_row: bool = True,
    column_numbers: bool = True,
    merge_down: Sequence[int] = (),
    repeat_header_before: int | None = None,
) -> Table:
    """An appendix table as Vietnamese plans print it.

    Row 1 is the header (repeated on each page; left out without ``header_row``), then the
    "(1) (2) …" row when asked, then ``rows``; a :class:`Section` is merged across from its
    second column. ``repeat_header_before`` puts a copy of the header, marked as a repeated
    header row, before that item row.
    """
    table = document.add_table(rows=0, cols=len(header))
    table.style = "Table Grid"

    def add(cells: Sequence[Cell]) -> None:
        row = table.add_row()
        for cell, value in zip(row.cells, cells, strict=True):
            _write(cell, value)

    if header_row:
        add(header)
        _repeat_on_each_page(table, 0)
    if column_numbers:
        add([f"({i})" for i in range(1, len(header) + 1)])
    first = len(table.rows)
    written: list[Row] = []
    for index, row in enumerate(rows):
        if index == repeat_header_before:
            add(header)
            _repeat_on_each_page(table, len(table.rows) - 1)
            written.append(Section("", ""))  # not an item row: runs are not merged across it
        if isinstance(row, Section):
            cells = table.add_row().cells
            cells[0].text = row.number
            cells[1].text = row.title
            cells[1].merge(cells[-1])
        else:
            add(row)
        written.append(row)
    _merge_runs(table, first, written, merge_down)
    return table


def split_table(
    document: Document,
    header: Sequence[str],
    rows: Sequence[Row],
    at: int,
    *,
    repeat_header: bool = True,
    merge_down: Sequence[int] = (),
) -> tuple[Table, Table]:
    """One appendix table broken over a page into two Word tables, the way it often arrives:
    ``rows[at:]`` go on the next page, under their own header unless ``repeat_header`` is off."""
    top = appendix_table(document, header, rows[:at], merge_down=merge_down)
    page_break(document)
    bottom = appendix_table(
        document,
        header,
        rows[at:],
        header_row=repeat_header,
        column_numbers=False,
        merge_down=merge_down,
    )
    return top, bottom


# --- the sample ------------------------------------------------------------------------------------


def _seed_rows(name: str, columns: Sequence[str]) -> list[Row]:
    """Rows of a seed CSV in the columns of the Word table, section rows as sections."""
    with (SEEDS / name).open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    rows: list[Row] = []
    for record in records:
        if not record["Đơn vị chủ trì"] and record["STT"].rstrip(".").isalpha():
            rows.append(Section(record["STT"], record[columns[1]]))
        else:
            rows.append([record[c] for c in columns])
    return rows


def _wrapped(cell: str) -> Cell:
    """Units as a clerk types them in a narrow column: one per line."""
    return cell.replace(", ", ",\n") if cell.startswith("Các phòng") else cell


def build_sample(path: Path = SAMPLE) -> Path:
    document = new_document()
    heading_block(
        document,
        ["UBND TỈNH LAI CHÂU", "SỞ KHOA HỌC VÀ CÔNG NGHỆ"],
        "12/KH-SKHCN",
        "Lai Châu, ngày 10 tháng 02 năm 2025",
    )
    plan_heading(
        document,
        "Triển khai Kế hoạch của UBND tỉnh Lai Châu thực hiện Nghị quyết số 03/NQ-CP ngày "
        "09/01/2025 của Chính phủ thực hiện Nghị quyết số 57-NQ/TW, ngày 22/12/2024 của Bộ Chính "
        "trị về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia",
    )
    document.add_paragraph("I. MỤC ĐÍCH, YÊU CẦU")
    document.add_paragraph(
        "Cụ thể hóa các nhiệm vụ của Sở Khoa học và Công nghệ; phân công các phòng, đơn vị chủ "
        "trì thực hiện các chỉ tiêu (Phụ lục I) và nhiệm vụ (Phụ lục II) kèm theo Kế hoạch này."
    )
    signature_block(document, ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"])
    page_break(document)

    centred(document, "Phụ lục I", bold=True)
    centred(document, "DANH MỤC CÁC CHỈ TIÊU CỤ THỂ", bold=True)
    centred(
        document, "(Kèm theo Kế hoạch số 12/KH-SKHCN ngày 10/02/2025 của Sở Khoa học và Công nghệ)"
    )
    indicator_columns = ["STT", "Tên chỉ tiêu", "Đơn vị tính", "Mục tiêu"]
    indicator_columns += ["Đơn vị chủ trì", "Đơn vị phối hợp"]
    indicators = _seed_rows("01-skhcn-57-2025-indicators.csv", indicator_columns)
    appendix_table(
        document,
        ["TT", "Chỉ tiêu", "Đơn vị", "Kết quả", "Đơn vị chủ trì", "Đơn vị phối hợp"],
        [r if isinstance(r, Section) else [*r[:5], _wrapped(r[5])] for r in indicators],
        merge_down=[5],
    )
    page_break(document)

    centred(document, "PHỤ LỤC II", bold=True)
    centred(
        document,
        "Danh mục các nhiệm vụ triển khai Kế hoạch của UBND tỉnh Lai Châu thực hiện Nghị quyết "
        "số 03/NQ-CP ngày 09/01/2025 của Chính phủ",
        bold=True,
    )
    centred(
        document, "(Kèm theo Kế hoạch số 12/KH-SKHCN ngày 10/02/2025 của Sở Khoa học và Công nghệ)"
    )
    task_columns = ["STT", "Tên nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp"]
    task_columns += ["Thời gian hoàn thành"]
    tasks = _seed_rows("01-skhcn-57-2025-tasks.csv", task_columns)
    second_page = next(i for i, r in enumerate(tasks) if isinstance(r, Section) and i > 10)
    split_table(
        document,
        ["STT", "Tên nhiệm vụ", "Đơn vị chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
        tasks,
        second_page,
        merge_down=[2, 3],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


if __name__ == "__main__":
    print(build_sample().relative_to(ROOT))
