"""Read a plan, or only its appendices, from a Word document (.docx).

What comes out is what the importer already validates: a :class:`PlanSource` with a tasks
table and/or an indicators table, in the columns the CSV and workbook imports use.

* **Appendix tables** are found by their header row (the importer's column titles, compared
  folded): a tasks table names Tên nhiệm vụ / Thời gian hoàn thành…, an indicators table Tên chỉ
  tiêu / Mã số / Mục tiêu…. Other tables (the Decree-30 heading block, signatures) are passed
  over. Two header rows ("Đơn vị thực hiện" above "Chủ trì | Phối hợp") are read as one.
* **Merged cells.** A horizontal merge is read once, in its first column; a section row
  "I | Đến năm 2030" merged across the row, or one cell "I. Đến năm 2030" spanning the whole
  row, opens a section. A vertical merge repeats its top cell's text in the rows below (one lead
  unit for several tasks), except in STT, name and code: those identify one item each, so a
  merged-down STT leaves the rows below without a number and the importer names them.
* **Multi-line cells** keep their paragraphs and line breaks as lines; the importer joins them
  with spaces, or keeps them as lines for Sản phẩm.
* **Skipped rows:** header rows repeated on each page (``w:tblHeader``, or a copy of the header)
  and the column-number row "(1) (2) (3) …".
* **Tables split over pages.** A table right after an appendix table (nothing but blank
  paragraphs between) with as many columns continues it, with or without its own header; every
  appendix table of one kind is read as one table. Each row keeps the table and row number Word
  shows (tables counted from the top of the document, the header is row 1), so a problem names
  the table a clerk has to open.
* **The plan's heading**, when the document is a whole plan: "Số: 12/KH-SKHCN", the place and
  date line, the issuing body (the last line of the top-left block) and the title (what follows
  "KẾ HOẠCH"). A document without "Số:" is an appendix only, to be imported into its plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocumentType
from docx.enum.text import WD_PARAGRAPH_ALIGNMENT
from docx.oxml.ns import qn

from workflow.errors import InvalidInput
from workflow.importer import (
    INDICATOR_COLUMNS,
    TASK_COLUMNS,
    PlanSource,
    Table,
    recognised_columns,
)
from workflow.messages import N_, Message
from workflow.text import clean, fold, fold_key

IDENTITY = ("number", "name", "code")  # one item each: a vertical merge is not repeated there
_INDICATOR_ONLY = {"name", "code", "measure", "target", "central"}
_TASK_ONLY = {"name", "timing", "outputs"}
_HEADER_SEARCH = 3  # a title row or two may stand above the header inside the table
_COLUMN_NUMBER = re.compile(r"^\(?(\d{1,2})\)?$")
_SECTION_CELL = re.compile(r"^([IVXLC]+)\.?\s+(\S.*)$", re.DOTALL)
_RULE = re.compile(r"^[\s_\-–—─=*.·]*$")
_NUMBER_LINE = re.compile(r"^so\s*:\s*")
_DATE_LINE = re.compile(r"^[^,]{2,60},\s*(ngay\b.*)$")
_DATE = re.compile(r"ngay\s*(\d{1,2})\s*(?:thang\s*|/)\s*(\d{1,2})\s*(?:nam\s*|/)\s*(\d{4})")
_MOTTO = ("cong hoa xa hoi chu nghia viet nam", "doc lap tu do hanh phuc")
_NONE_FOUND = N_(
    "%(file)s: no appendix table found: nhiemvu reads a table whose first row names its "
    "columns (%(tasks)s … or %(indicators)s …)"
)
_TASK_TITLES = "STT, Tên nhiệm vụ, Đơn vị chủ trì, Thời gian hoàn thành"
_INDICATOR_TITLES = "STT, Tên chỉ tiêu, Đơn vị chủ trì"


@dataclass
class _Cell:
    text: str
    kind: str  # "own" holds text; "span": later column of a horizontal merge; "below": vMerge


@dataclass
class _WordRow:
    number: int  # as Word counts rows in its table, from 1
    cells: list[_Cell]
    repeated_header: bool  # w:tblHeader: repeated at the top of each page

    def texts(self) -> list[str]:
        return [c.text if c.kind == "own" else "" for c in self.cells]


@dataclass
class _Part:
    """One Word table of an appendix: its rows and where its columns are."""

    table: int  # Word's table number, from 1
    kind: str  # "task" or "indicator"
    columns: dict[str, int]  # column name -> index in this table
    header: list[str]
    rows: list[_WordRow] = field(default_factory=list)


def read_docx(path: Path) -> PlanSource:
    """The plan (or appendices only) a Word document holds; see the module docstring."""
    try:
        return _read_document(path, docx.Document(str(path)))
    except InvalidInput:
        raise
    except Exception as exc:  # python-docx and lxml raise many kinds for a damaged file
        raise InvalidInput(
            N_("%(file)s: not a readable Word document (%(error)s); save it from Word as .docx"),
            file=path,
            error=exc.__class__.__name__,
        ) from None


def _read_document(path: Path, document: DocumentType) -> PlanSource:
    heading: list[str] = []  # text before the first appendix table, in reading order
    title: list[tuple[str, bool]] = []  # paragraphs after "KẾ HOẠCH": (text, centred)
    parts: list[_Part] = []
    previous: _Part | None = None  # the appendix table a following table may continue
    blank_since = True
    tables = 0
    for block in document.element.body.iterchildren():
        if block.tag == qn("w:p"):
            text = block.text
            if not parts:
                heading.append(text)
                title.append((text, block.alignment == WD_PARAGRAPH_ALIGNMENT.CENTER))
            blank_since = blank_since and not clean(text)
            continue
        if block.tag != qn("w:tbl"):
            continue
        tables += 1
        rows = _grid(block)
        part = _appendix(tables, rows)
        if part is None and previous is not None and blank_since:
            part = _continuation(tables, rows, previous)
        if part is None:
            if not parts:
                heading += [line for row in rows for t in row.texts() for line in t.split("\n")]
            previous = None
        else:
            parts.append(part)
            previous = part
        blank_since = True
    if not parts:
        raise InvalidInput(_NONE_FOUND, file=path, tasks=_TASK_TITLES, indicators=_INDICATOR_TITLES)
    source = PlanSource(
        path.name,
        {},
        tasks=_table(path.name, [p for p in parts if p.kind == "task"]),
        indicators=_table(path.name, [p for p in parts if p.kind == "indicator"]),
    )
    fields = _plan_fields(heading, title)
    if fields is None:
        source.appendix_only = True
    else:
        source.fields = {**fields, "source": path.name}
    return source


# --- tables ----------------------------------------------------------------------------------------


def _grid(tbl: Any) -> list[_WordRow]:  # a CT_Tbl
    """Each row as one cell per grid column, merges resolved (python-docx would repeat them)."""
    rows: list[_WordRow] = []
    above: list[_Cell] = []
    for number, tr in enumerate(tbl.tr_lst, start=1):
        cells = [_Cell("", "span") for _ in range(tr.grid_before)]
        for tc in tr.tc_lst:
            column = len(cells)
            if tc.vMerge == "continue":
                cells.append(_Cell(above[column].text if column < len(above) else "", "below"))
            else:
                cells.append(_Cell("\n".join(p.text for p in tc.p_lst), "own"))
            cells += [_Cell("", "span") for _ in range(tc.grid_span - 1)]
        rows.append(_WordRow(number, cells, _repeats_on_each_page(tr)))
        above = cells
    return rows


def _repeats_on_each_page(tr: Any) -> bool:  # a CT_Row
    marker = tr.trPr.find(qn("w:tblHeader")) if tr.trPr is not None else None
    return marker is not None and marker.get(qn("w:val"), "true") not in ("0", "false", "off")


def _kind(header: list[str]) -> tuple[str, dict[str, int]] | None:
    """Whether a row is the header of a tasks or an indicators appendix, and its columns."""
    tasks = recognised_columns(header, TASK_COLUMNS)
    indicators = recognised_columns(header, INDICATOR_COLUMNS)
    if len(tasks) >= 3 and _TASK_ONLY & set(tasks) and len(tasks) >= len(indicators):
        return "task", tasks
    if len(indicators) >= 3 and _INDICATOR_ONLY & set(indicators):
        return "indicator", indicators
    return None


def _appendix(number: int, rows: list[_WordRow]) -> _Part | None:
    for index, row in enumerate(rows[:_HEADER_SEARCH]):
        header, depth = row.texts(), 1
        below = rows[index + 1] if index + 1 < len(rows) else None
        if below is not None and any(c.kind == "below" for c in below.cells):
            # "Đơn vị thực hiện" above "Chủ trì | Phối hợp": the lower titles win
            header = [b or h for h, b in zip(header, below.texts(), strict=False)]
            depth = 2
        found = _kind(header)
        if found is not None:
            kind, columns = found
            part = _Part(number, kind, columns, header)
            part.rows = _item_rows(rows[index + depth :], part)
            return part
    return None


def _continuation(number: int, rows: list[_WordRow], previous: _Part) -> _Part | None:
    """A table without a header right after an appendix table, as wide: its next page."""
    if not rows or len(rows[0].cells) != len(previous.header):
        return None
    part = _Part(number, previous.kind, previous.columns, previous.header)
    part.rows = _item_rows(rows, part)
    return part


def _item_rows(rows: list[_WordRow], part: _Part) -> list[_WordRow]:
    header = [fold_key(t) for t in part.header]
    return [
        row
        for row in rows
        if not row.repeated_header
        and [fold_key(t) for t in row.texts()] != header
        and not _column_numbers(row.texts())
    ]


def _column_numbers(texts: list[str]) -> bool:
    """The row "(1) (2) (3) …" printed under the header."""
    filled = [clean(t) for t in texts if clean(t)]
    numbers = [m for t in filled if (m := _COLUMN_NUMBER.match(t))]
    if len(filled) < 3 or len(numbers) != len(filled):
        return False
    values = [int(m[1]) for m in numbers]
    return values == list(range(values[0], values[0] + len(values)))


def _values(row: _WordRow, part: _Part) -> dict[str, str]:
    """A row's text by column name, merges read the way the module docstring says."""
    values: dict[str, str] = {}
    for name, index in part.columns.items():
        cell = row.cells[index] if index < len(row.cells) else _Cell("", "span")
        keep = cell.kind == "own" or (cell.kind == "below" and name not in IDENTITY)
        values[name] = cell.text if keep else ""
    number_at = part.columns.get("number")
    if number_at is not None and "name" in part.columns:
        others = [c for i, c in enumerate(row.cells) if i != number_at and c.kind == "own"]
        section = _SECTION_CELL.match(clean(values["number"]))
        if section and not any(clean(c.text) for c in others):
            values["number"], values["name"] = section[1], section[2]
    return values


def _table(name: str, parts: list[_Part]) -> Table | None:
    """The parts of one kind as one importer table, in the first part's columns."""
    if not parts:
        return None
    first = parts[0]
    source = _word_table(name, first.table)
    for part in parts[1:]:
        if set(part.columns) != set(first.columns):
            raise InvalidInput(
                N_(
                    "%(table)s: its columns (%(columns)s) are not those of table %(first)s "
                    "(%(first_columns)s); give every part of an appendix the same columns"
                ),
                table=_word_table(name, part.table),
                columns=[clean(h) for h in part.header if clean(h)],
                first=first.table,
                first_columns=[clean(h) for h in first.header if clean(h)],
            )
    table = Table(source, list(first.header), [])
    key = 0
    for part in parts:
        for row in part.rows:
            values = _values(row, part)
            cells = [""] * len(first.header)
            for column, index in first.columns.items():
                cells[index] = values[column]
            key = row.number if part is first else key + 1
            if part is not first:
                table.parts[key] = (_word_table(name, part.table), row.number)
            table.rows.append((key, cells))
        if part is first and first.rows:
            key = max(r.number for r in first.rows)
    return table


def _word_table(name: str, number: int) -> Message:
    """A table as Word counts them: "ke-hoach.docx, table 3"."""
    return Message(N_("%(file)s, table %(table)s"), file=name, table=number)


# --- the plan's heading ----------------------------------------------------------------------------


def _plan_fields(heading: list[str], paragraphs: list[tuple[str, bool]]) -> dict[str, Any] | None:
    """Number, date, issuer and title from the first page; None for an appendix-only document."""
    lines = [clean(line) for text in heading for line in text.split("\n")]
    lines = [line for line in lines if not _RULE.match(line)]
    at = next((i for i, line in enumerate(lines) if _NUMBER_LINE.match(fold(line))), None)
    if at is None:
        return None
    fields: dict[str, Any] = {"number": lines[at][_NUMBER_LINE.match(fold(lines[at])).end() :]}
    issuer = [line for line in lines[:at] if not fold_key(line).startswith(_MOTTO)]
    if issuer:
        fields["issuer"] = issuer[-1]
    for line in lines:
        dated = _DATE_LINE.match(fold(line))
        if dated:
            fields["issued_text"] = line[dated.start(1) :]
            fields["issued_on"] = _date(dated[1])
            break
    fields["title"] = _title(paragraphs)
    return fields


def _date(folded: str) -> date | None:
    """The date when day, month and year are all printed ("ngày  tháng 02 năm 2025" is a draft)."""
    match = _DATE.search(folded)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def _title(paragraphs: list[tuple[str, bool]]) -> str:
    """The paragraph after "KẾ HOẠCH", and those after it still centred like a title."""
    start = next((i for i, (t, _) in enumerate(paragraphs) if fold_key(t) == "ke hoach"), None)
    if start is None:
        return ""
    title: list[str] = []
    for text, centred in paragraphs[start + 1 :]:
        if _RULE.match(text) or (title and not centred):
            if title:
                break
            continue
        title.append(clean(text))
    return " ".join(title)
