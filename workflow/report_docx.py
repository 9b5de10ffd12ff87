"""The consolidated report as a Word document laid out as Vietnamese administrative documents
are (Decree 30/2020/NĐ-CP, appendix I): A4 portrait, margins 2 cm top and bottom, 3 cm left,
2 cm right; Times New Roman 13–14 pt; the header as a borderless two-column table (the issuing
body under its governing body, the document's number; the national name and motto, the place
and date); the title; numbered parts; "Nơi nhận" and the signature.

The body is a sequence of part functions (:data:`PARTS`), each writing one numbered part:
another part is one more function. The document's text is Vietnamese: it is data, the
language of the document, not of the app's interface.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

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
BODY_PT = 14
TABLE_PT = 12
A4 = (Cm(21), Cm(29.7))
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
DOTS = "…" * 52

Part = Callable[[DocumentType, ConsolidatedReport, str], None]  # document, report, its number


# --- page and type -------------------------------------------------------------------------------


def _page(section, landscape: bool = False) -> None:
    width, height = A4
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)


def _fonts(document: DocumentType) -> None:
    """Times New Roman for every script, East Asian included (Word takes Vietnamese text typed
    with an East Asian input method in that font)."""
    for name in ("Normal", "Table Grid"):
        style = document.styles[name]
        style.font.name = FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attribute), FONT)
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    normal.paragraph_format.space_after = Pt(6)


def _para(
    container,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: int | None = None,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
    after: int | None = None,
) -> Paragraph:
    paragraph = container.add_paragraph()
    if text:
        run = paragraph.add_run(plain_text(text))
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    if after is not None:
        paragraph.paragraph_format.space_after = Pt(after)
    return paragraph


def _cell_para(cell: _Cell, text: str = "", **kwargs) -> Paragraph:
    """A paragraph in ``cell``: its first, empty one, then new ones."""
    first = cell.paragraphs[0]
    if len(cell.paragraphs) == 1 and not first.text and not first.runs:
        paragraph = first
        if text:
            run = paragraph.add_run(plain_text(text))
            run.bold, run.italic = kwargs.get("bold") or None, kwargs.get("italic") or None
            if kwargs.get("size"):
                run.font.size = Pt(kwargs["size"])
        if kwargs.get("align") is not None:
            paragraph.alignment = kwargs["align"]
        paragraph.paragraph_format.space_after = Pt(kwargs.get("after") or 0)
        return paragraph
    kwargs.setdefault("after", 0)
    return _para(cell, text, **kwargs)


def _rule(cell: _Cell, indent_cm: float) -> None:
    """A short horizontal rule under the line above: a paragraph's top border, indented."""
    paragraph = _cell_para(cell, size=4, after=0)
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = Cm(indent_cm)
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(key), value)
    borders.append(top)
    paragraph._p.get_or_add_pPr().append(borders)


def _no_borders(table: Table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def _widths(table: Table, widths: Sequence[float]) -> None:
    """Fixed column widths, in the grid (what LibreOffice reads) and on every cell (Word)."""
    table.autofit = False
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        column.w = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)


def _repeat_header(row) -> None:
    """The header row is repeated at the top of each page the table runs onto."""
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _grid(
    document: DocumentType,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    bold_rows: Sequence[bool] = (),
) -> Table:
    """A table with borders, its header bold and repeated on each page, text at TABLE_PT."""
    table = document.add_table(rows=1, cols=len(header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _repeat_header(table.rows[0])
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _cell_para(cell, text, bold=True, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    heading_rows = []
    for index, values in enumerate(rows):
        bold = index < len(bold_rows) and bold_rows[index]
        row = table.add_row()
        for column, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            centred = column == 0 or text.replace(",", "").replace(" %", "").isdigit()
            _cell_para(
                cell,
                text,
                bold=bold,
                size=TABLE_PT,
                align=WD_ALIGN_PARAGRAPH.CENTER if centred else None,
            )
        if bold and not any(values[2:]):
            heading_rows.append(row)
    _widths(table, widths)
    for row in heading_rows:  # a section's title runs across the table
        row.cells[1].merge(row.cells[-1])
    return table


def _heading(document: DocumentType, number: str, title: str) -> None:
    _para(document, f"{number}. {title.upper()}", bold=True, after=6)


# --- the header, the title -----------------------------------------------------------------------


def _letterhead(document: DocumentType, report: ConsolidatedReport) -> None:
    head = report.letterhead
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _widths(table, (6.5, 9.5))
    left, right = table.rows[0].cells
    centre = WD_ALIGN_PARAGRAPH.CENTER
    if head.governing_body:
        _cell_para(left, head.governing_body.upper(), size=12, align=centre)
    _cell_para(left, head.issuing_body.upper(), bold=True, size=12, align=centre)
    _rule(left, 2.3)
    _cell_para(left, f"Số: …/{head.symbol}", size=13, align=centre)
    _cell_para(right, NATION, bold=True, size=12, align=centre)
    _cell_para(right, MOTTO, bold=True, size=14, align=centre)
    _rule(right, 2.2)
    _cell_para(right, date_line(head.place, report.made_on), italic=True, size=14, align=centre)


def date_line(place: str, day_made: date) -> str:
    """``Lai Châu, ngày 27 tháng 11 năm 2026``. Decree 30 writes a day below 10 and the months
    January and February with a leading zero (ngày 05 tháng 02), other months without."""
    month = f"{day_made.month:02d}" if day_made.month < 3 else str(day_made.month)
    return f"{place}, ngày {day_made.day:02d} tháng {month} năm {day_made.year}"


def _title(document: DocumentType, report: ConsolidatedReport) -> None:
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _para(document, "BÁO CÁO", bold=True, align=centre, after=0).paragraph_format.space_before = Pt(
        12
    )
    _para(
        document,
        f"Kết quả thực hiện Kế hoạch số {report.plan.number} kỳ {report.period_words}",
        bold=True,
        align=centre,
        after=0,
    )
    as_of = f"(Số liệu tính đến ngày {day(report.as_of)})"
    _para(document, as_of, italic=True, align=centre, after=12)
    issuer = report.letterhead.issuing_body
    _para(
        document,
        f"Thực hiện Kế hoạch số {report.plan.number} về {_lower_first(report.plan.title)}, "
        f"{issuer} báo cáo kết quả thực hiện kỳ {report.period_words} như sau:",
        indent=True,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )


def _lower_first(text: str) -> str:
    text = text.strip()
    for prefix in ("Kế hoạch ", "kế hoạch "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


# --- the parts -----------------------------------------------------------------------------------


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole, 1):g} %".replace(".", ",") if whole else "0 %"


def overall_part(document: DocumentType, report: ConsolidatedReport, number: str) -> None:
    """I. The plan's due items by the four classes; the same per lead unit."""
    _heading(document, number, "Kết quả chung")
    counts = report.overall
    _para(
        document,
        f"Tính đến ngày {day(report.as_of)}, Kế hoạch có {counts.total} mốc thời hạn phải thực "
        f"hiện (thời hạn hoàn thành nhiệm vụ và các kỳ thực hiện nhiệm vụ hằng năm), trong đó:",
        indent=True,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    rows = [
        [str(i + 1), CLASS_VI[c], str(counts.classes[c]), _share(counts.classes[c], counts.total)]
        for i, c in enumerate(DueClass)
    ]
    rows.append(["", "Tổng cộng", str(counts.total), "100 %" if counts.total else "0 %"])
    _grid(
        document,
        ("STT", "Phân loại", "Số lượng", "Tỷ lệ"),
        rows,
        (1.5, 8, 3, 3.5),
        bold_rows=[False] * 4 + [True],
    )
    _para(document, "Theo đơn vị chủ trì:", indent=True).paragraph_format.space_before = Pt(6)
    _grid(
        document,
        UNIT_HEADER,
        [[_text(value) for value in row] for row in unit_rows(report)],
        (1, 3.9, 1.9, 1.9, 1.9, 1.6, 2.3, 1.5),
    )


def _wide_table(
    document: DocumentType,
    number: str,
    title: str,
    header: Sequence[str],
    rows: Sequence[TableRow],
    widths: Sequence[float],
) -> None:
    """A numbered part that is one wide table, on landscape pages; the document returns to
    portrait after it."""
    _page(document.add_section(WD_SECTION.NEW_PAGE), landscape=True)
    _heading(document, number, title)
    _grid(
        document,
        header,
        [[_text(v) for v in row.cells] for row in rows],
        widths,
        bold_rows=[row.heading for row in rows],
    )
    _page(document.add_section(WD_SECTION.NEW_PAGE))


def results_part(document: DocumentType, report: ConsolidatedReport, number: str) -> None:
    """Each task's result as of the report's date, under its section."""
    _wide_table(
        document,
        number,
        "Kết quả thực hiện từng nhiệm vụ",
        TABLE_HEADER,
        table_rows(report),
        (1.2, 6, 3.4, 2.3, 1.6, 6, 2.2, 2),
    )


def indicators_part(document: DocumentType, report: ConsolidatedReport, number: str) -> None:
    """The plan's indicators against their targets: the latest value each lead unit reported
    by the report's date, and whether it meets the target."""
    if not report.indicators:
        _heading(document, number, "Kết quả thực hiện các chỉ tiêu")
        _para(document, "Kế hoạch không giao chỉ tiêu cụ thể.", indent=True)
        return
    _wide_table(
        document,
        number,
        "Kết quả thực hiện các chỉ tiêu",
        INDICATOR_HEADER,
        indicator_rows(report),
        (1.3, 1.5, 5.4, 2, 3.6, 3, 2, 3, 2.2),
    )


def _text(value: str | int | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return day(value)
    return str(value)


def waiting_part(document: DocumentType, report: ConsolidatedReport, number: str) -> None:
    """Tasks waiting for central guidance, the longest waiting first."""
    _heading(document, number, "Nhiệm vụ chờ hướng dẫn của Trung ương")
    if not report.waiting:
        _para(document, "Không có nhiệm vụ chờ hướng dẫn.", indent=True)
        return
    _para(
        document,
        f"Có {len(report.waiting)} nhiệm vụ chưa triển khai được do chờ văn bản hướng dẫn:",
        indent=True,
    )
    _grid(
        document,
        ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Chờ văn bản", "Số ngày chờ"),
        [
            [
                w.task.number or w.task.ref,
                w.task.name,
                "; ".join(w.lead_units) or w.task.lead_units_text,
                w.trigger,
                "" if w.days_waited is None else str(w.days_waited),
            ]
            for w in report.waiting
        ],
        (1.2, 6, 3.3, 3.5, 2),
    )


def difficulties_part(document: DocumentType, report: ConsolidatedReport, number: str) -> None:
    """What units reported as difficulties and proposals in the period, then room for the
    Office's own."""
    _heading(document, number, "Khó khăn, vướng mắc và đề xuất, kiến nghị")
    _para(document, "1. Khó khăn, vướng mắc, đề xuất của các đơn vị", bold=True, indent=True)
    if not report.difficulties:
        _para(document, "Các đơn vị không báo cáo khó khăn, vướng mắc trong kỳ.", indent=True)
    for unit in report.difficulties:
        _para(document, f"- {unit.unit}:", italic=True, indent=True, after=2)
        for item in unit.items:
            _para(
                document,
                f"+ Nhiệm vụ {item.task_number} ({item.task_name}), báo cáo ngày "
                f"{day(item.reported_on)}: {item.text}",
                indent=True,
                align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                after=2,
            )
    _para(
        document, "2. Đề xuất, kiến nghị", bold=True, indent=True
    ).paragraph_format.space_before = Pt(6)
    for _ in range(3):
        _para(document, DOTS, after=2)


PARTS: tuple[Part, ...] = (
    overall_part,
    results_part,
    indicators_part,
    waiting_part,
    difficulties_part,
)


# --- the end -------------------------------------------------------------------------------------


def _signature(document: DocumentType, report: ConsolidatedReport) -> None:
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (8, 8))
    left, right = table.rows[0].cells
    _cell_para(left, "Nơi nhận:", bold=True, italic=True, size=12)
    for line in ("- Như trên;", "- Lãnh đạo đơn vị;", "- Lưu: VT."):
        _cell_para(left, line, size=11)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _cell_para(right, "THỦ TRƯỞNG ĐƠN VỊ", bold=True, size=14, align=centre)
    _cell_para(right, "(Ký, ghi rõ họ tên và đóng dấu)", italic=True, size=13, align=centre)


# --- the document --------------------------------------------------------------------------------


def build_docx(report: ConsolidatedReport, parts: Sequence[Part] = PARTS) -> bytes:
    """The report as the bytes of a .docx file; ``parts`` numbered I, II, … in order."""
    document = Document()
    _fonts(document)
    _page(document.sections[0])
    _letterhead(document, report)
    _title(document, report)
    for index, part in enumerate(parts):
        part(document, report, ROMAN[index])
    _para(document)
    _signature(document, report)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
