"""Import plans and their appendices from the tables the documents use.

Sources:

* a plan manifest (``.toml``): the plan's metadata, naming its tasks and indicators tables
  (``.csv`` or ``.xlsx``) beside it;
* a workbook (``.xlsx``) with a sheet "Kế hoạch" (field, value), a sheet "Nhiệm vụ" and
  optionally "Chỉ tiêu";
* a bare table (``.csv``/``.xlsx``) of tasks for a plan already in the database (``--plan``);
* a Word document (``.docx``): a whole plan, or only its appendices for a plan already in the
  database (see :mod:`workflow.docx_source`).

Task tables have the appendix columns (STT, Tên nhiệm vụ, Đơn vị chủ trì, Đơn vị phối hợp,
Thời gian hoàn thành, optionally Sản phẩm); a row whose STT is a roman numeral opens a section.
Everything is validated before anything is written: a problem names the file, the row and the
column, and the whole import is refused. Re-importing a file changes only what changed.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from sqlalchemy.orm import Session, object_session

from workflow.context import Context
from workflow.due import announce_again, regenerate
from workflow.errors import ImportFailed, InvalidInput, NhiemvuError
from workflow.history import record
from workflow.messages import N_, Message, as_text
from workflow.models import (
    Indicator,
    IndicatorUnit,
    IndicatorValue,
    Plan,
    Section,
    Task,
    TaskUnit,
    Unit,
    User,
    is_draft_number,
)
from workflow.permissions import Action, can, in_organisation, require
from workflow.plans import find_plan, supersede_plan
from workflow.regime import ReportingRegime
from workflow.tasks import record_change, timing_change_problem
from workflow.text import clean, fold_key
from workflow.timing import Timing, TimingKind, parse_timing
from workflow.units import UnitDirectory, UnresolvedName

Progress = Callable[[int], None]
CreateUnit = Callable[[str, Unit | None], Unit]  # a unit nobody knows, under its scope

TASK_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("stt", "tt", "so tt"),
    "name": ("ten nhiem vu", "nhiem vu", "noi dung", "noi dung nhiem vu"),
    "lead": ("don vi chu tri", "co quan chu tri", "chu tri"),
    "cooperating": ("don vi phoi hop", "co quan phoi hop", "phoi hop"),
    "timing": ("thoi gian hoan thanh", "thoi gian thuc hien", "thoi han", "thoi han hoan thanh"),
    "outputs": ("san pham", "san pham dau ra", "ket qua san pham"),
}
TASK_REQUIRED = ("number", "name", "lead", "timing")
MULTILINE = ("outputs",)  # products are listed one per line; other cells are one line of text
INDICATOR_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("stt", "tt", "so tt"),
    "code": ("ma so", "ma"),
    "name": ("ten chi tieu", "chi tieu"),
    "measure": ("don vi tinh", "don vi"),
    "target": ("muc tieu", "ket qua", "gia tri muc tieu", "chi tieu can dat"),
    "year": ("nam", "nam dat", "moc thoi gian"),
    "lead": ("don vi chu tri", "co quan chu tri"),
    "cooperating": ("don vi phoi hop", "co quan phoi hop"),
    "central": ("co quan trung uong",),
}
INDICATOR_REQUIRED = ("number", "name", "lead")
IGNORED_COLUMNS = ("ghi chu",)
COLUMN_TITLES = {
    "number": "STT",
    "name": "Tên nhiệm vụ",
    "lead": "Đơn vị chủ trì",
    "cooperating": "Đơn vị phối hợp",
    "timing": "Thời gian hoàn thành",
    "outputs": "Sản phẩm",
    "code": "Mã số",
    "measure": "Đơn vị tính",
    "target": "Mục tiêu",
    "year": "Năm",
    "central": "Cơ quan Trung ương",
}
PLAN_FIELDS = {
    "code": ("code", "ma"),
    "number": ("number", "so", "so hieu", "so ky hieu"),
    "title": ("title", "trich yeu", "ten ke hoach"),
    "issuer": ("issuer", "co quan ban hanh", "don vi ban hanh"),
    "issued_on": ("issued_on", "ngay ban hanh"),
    "issued_text": ("issued_text", "ngay ban hanh nhu in", "ngay thang"),
    "implements": ("implements", "thuc hien", "can cu"),
    "supersedes": ("supersedes", "thay the"),
    "reporting_regime": ("reporting_regime", "che do bao cao"),
    "reporting_regime_text": ("reporting_regime_text", "che do bao cao nguyen van"),
    "source": ("source", "nguon"),
    "tasks": ("tasks",),
    "indicators": ("indicators",),
}
_ROMAN = re.compile(r"^[IVXLC]+\.?$", re.IGNORECASE)
_ARABIC = re.compile(r"^\d+(\.\d+)*\.?$")
_COMPARATOR = re.compile(r"^(≥|>=|>|≤|<=|<|=)?\s*([0-9]+(?:[.,][0-9]+)?)\s*%?$")
_YEAR_IN_TITLE = re.compile(r"\b(19|20|21)(\d\d)\b")
LARGE_IMPORT = 200  # rows from which the CLI shows a progress bar


@dataclass
class Table:
    source: str | Message  # "tasks.csv", "ke-hoach.xlsx [Nhiệm vụ]", "ke-hoach.docx, table 3"
    header: list[str]
    rows: list[tuple[int, list[str]]]
    # Rows read from another table than ``source`` (a Word table continued after a page
    # break): row number here -> (that table, the row's number there).
    parts: dict[int, tuple[str | Message, int]] = field(default_factory=dict)

    def where(self, row: int) -> Message:
        """Where a clerk finds a row: "tasks.csv row 4", "ke-hoach.docx, table 3 row 2"."""
        source, number = self.parts.get(row, (self.source, row))
        return Message(N_("%(table)s row %(row)s"), table=source, row=number)

    def where_else(self, row: int) -> Message:
        """Where a row is, said from another row of this table: "row 3", or its own table's
        name when it is in another Word table."""
        source, number = self.parts.get(row, (self.source, row))
        if source == self.source:
            return Message(N_("row %(row)s"), row=number)
        return self.where(row)


def at_column(where: str | Message, title: str) -> Message:
    """A cell's place: its row, and its column by the title the document gives it."""
    return Message(N_("%(where)s, column %(column)s"), where=where, column=repr(title))


@dataclass
class PlanSource:
    source: str
    fields: dict[str, Any]
    tasks: Table | None = None
    indicators: Table | None = None
    appendix_only: bool = False  # appendices without their plan's heading: import with --plan


@dataclass
class ImportResult:
    plan: Plan
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    indicators: int = 0
    warnings: list[str] = field(default_factory=list)  # English, each a Text (messages.py)
    superseded: list[str] = field(default_factory=list)


# --- reading files -------------------------------------------------------------------------------


def read_source(path: Path) -> dict[str, Any] | PlanSource | Table:
    """What a file holds: an organisation (dict), a plan, or a bare table of tasks."""
    if not path.exists():
        raise InvalidInput(N_("%(file)s: no such file"), file=path)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        data = _read_toml(path)
        if "plan" in data:
            return _manifest(path, data)
        if {"units", "groups", "users"} & set(data):
            return data
        raise InvalidInput(N_("%(file)s: expected a [plan] table or [[units]] entries"), file=path)
    if suffix == ".xlsx":
        try:
            return _workbook(path)
        except InvalidInput:
            raise
        except Exception as exc:  # a damaged sheet shows only when the read-only reader gets to it
            raise _unreadable_workbook(path, exc) from None
    if suffix == ".csv":
        return _csv(path)
    if suffix == ".docx":
        from workflow.docx_source import read_docx  # it builds on this module's tables

        return read_docx(path)
    template = (
        N_(
            "%(file)s: unsupported file type %(type)s (use .toml, .xlsx, .csv, .docx; save a .doc "
            "as .docx in Word)"
        )
        if suffix == ".doc"
        else N_("%(file)s: unsupported file type %(type)s (use .toml, .xlsx, .csv, .docx)")
    )
    raise InvalidInput(template, file=path, type=suffix or Message(N_("(none)")))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            N_("%(file)s: not valid TOML (%(error)s)"), file=path, error=str(exc)
        ) from None


def _manifest(path: Path, data: dict[str, Any]) -> PlanSource:
    plan = data["plan"]
    if not isinstance(plan, dict):
        raise InvalidInput(N_("%(file)s: [plan] must be a table"), file=path)
    source = PlanSource(path.name, dict(plan))
    for key in ("tasks", "indicators"):
        name = plan.get(key)
        if name:
            table_path = path.parent / str(name)
            table = _read_table_file(table_path)
            setattr(source, key, table)
    return source


def _read_table_file(path: Path) -> Table:
    if not path.exists():
        raise InvalidInput(N_("%(file)s: no such file (named by the plan manifest)"), file=path)
    if path.suffix.lower() == ".xlsx":
        workbook = _open_workbook(path)
        try:
            return _sheet_table(path.name, workbook.worksheets[0])
        except InvalidInput:
            raise
        except Exception as exc:
            raise _unreadable_workbook(path, exc) from None
    return _csv(path)


def _csv(path: Path) -> Table:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            N_("%(file)s: not UTF-8 text (byte %(byte)s); save it as CSV UTF-8"),
            file=path,
            byte=exc.start,
        ) from None
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)  # Excel writes ';' in some locales
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise InvalidInput(
            N_("%(file)s: not a well-formed CSV file (%(error)s)"), file=path, error=str(exc)
        ) from None
    if not rows:
        raise InvalidInput(N_("%(file)s: empty file"), file=path)
    return Table(path.name, rows[0], [(i, r) for i, r in enumerate(rows[1:], start=2)])


def _unreadable_workbook(path: Path, exc: Exception) -> InvalidInput:
    return InvalidInput(
        N_("%(file)s: not a readable .xlsx workbook (%(error)s)"),
        file=path,
        error=exc.__class__.__name__,
    )


def _open_workbook(path: Path) -> Workbook:
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise _unreadable_workbook(path, exc) from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value:%d/%m/%Y}"  # as Excel shows it to a Vietnamese clerk
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_table(source: str, sheet: Any) -> Table:  # a read-only openpyxl worksheet
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    if not rows:
        raise InvalidInput(
            N_("%(file)s: sheet %(sheet)s is empty"), file=source, sheet=repr(sheet.title)
        )
    return Table(
        f"{source} [{sheet.title}]", rows[0], [(i, r) for i, r in enumerate(rows[1:], start=2)]
    )


def _workbook(path: Path) -> PlanSource | Table:
    workbook = _open_workbook(path)
    sheets = {fold_key(ws.title): ws for ws in workbook.worksheets}
    if "ke hoach" not in sheets:
        return _sheet_table(path.name, workbook.worksheets[0])
    fields: dict[str, Any] = {}
    lookup = {syn: key for key, syns in PLAN_FIELDS.items() for syn in syns}
    for row in sheets["ke hoach"].iter_rows(values_only=True):
        if not row or row[0] is None:
            continue
        key = lookup.get(fold_key(str(row[0])))
        if key is None:
            raise InvalidInput(
                N_("%(sheet)s: unknown field %(field)s"),
                sheet=f"{path.name} [Kế hoạch]",
                field=repr(row[0]),
            )
        value = row[1] if len(row) > 1 else None
        if isinstance(value, datetime):
            value = value.date()
        fields[key] = value if value is None or isinstance(value, date) else _cell(value)
    source = PlanSource(path.name, fields)
    if "nhiem vu" in sheets:
        source.tasks = _sheet_table(path.name, sheets["nhiem vu"])
    if "chi tieu" in sheets:
        source.indicators = _sheet_table(path.name, sheets["chi tieu"])
    return source


# --- validating --------------------------------------------------------------------------------


@dataclass
class _Row:
    row_number: int
    where: Message  # "tasks.csv row 4": how a clerk finds it
    ref: str
    number: str
    position: int
    section: tuple[str, str] | None
    values: dict[str, str]
    lead: list[Unit]
    cooperating: list[Unit]


@dataclass
class _Validated:
    plan: Plan | None  # the plan as it is before this import, when it exists
    fields: dict[str, Any]
    issuer: Unit | None
    supersedes: Plan | None
    sections: dict[tuple[str, str], tuple[int, str]]
    tasks: list[_Row]
    indicators: list[_Row]
    problems: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)


def _columns(
    table: Table,
    spec: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    problems: list[Message],
) -> dict[str, int]:
    found: dict[str, int] = {}
    lookup = {syn: key for key, syns in spec.items() for syn in syns}
    for index, title in enumerate(table.header):
        key = fold_key(title)
        if not key or key in IGNORED_COLUMNS:
            continue
        name = lookup.get(key) or next(
            (f for s, f in lookup.items() if key.startswith(s + " ") and f == "central"), None
        )
        if name is None:
            problems.append(
                Message(
                    N_("%(table)s: column %(column)s is not one nhiemvu reads"),
                    table=table.source,
                    column=repr(clean(title)),
                )
            )
        elif name in found:
            problems.append(
                Message(
                    N_("%(table)s: column %(column)s repeats another column"),
                    table=table.source,
                    column=repr(clean(title)),
                )
            )
        else:
            found[name] = index
    for name in required:
        if name not in found:
            problems.append(
                Message(
                    N_("%(table)s: column %(column)s is missing (found: %(found)s)"),
                    table=table.source,
                    column=repr(COLUMN_TITLES[name]),
                    found=[clean(h) for h in table.header],
                )
            )
    return found


def recognised_columns(header: list[str], spec: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """The columns of ``spec`` a header row names (column name -> index), problems aside."""
    return _columns(Table("", header, []), spec, (), [])


def _cell_text(text: str, multiline: bool) -> str:
    if not multiline:
        return clean(text)
    return "\n".join(line for line in (clean(x) for x in str(text).splitlines()) if line)


def _rows(
    table: Table, columns: dict[str, int], kind: str, problems: list[Message]
) -> Iterator[tuple[int, dict[str, str] | None, Any]]:
    """Yield (row number, values, section) for each item row, following section rows."""
    section: tuple[str, str] | None = None
    for row_number, cells in table.rows:
        values = {
            name: _cell_text(cells[i] if i < len(cells) else "", name in MULTILINE)
            for name, i in columns.items()
        }
        if not any(values.values()):
            continue
        number = values.get("number", "").rstrip(".")
        if number and _ROMAN.match(values["number"]) and not values.get("lead"):
            section = (kind, number.upper())
            yield row_number, None, (section, values.get("name", ""))
            continue
        stt = at_column(table.where(row_number), COLUMN_TITLES["number"])
        if not number:
            template = (
                N_("%(where)s: empty (each task row needs its number)")
                if kind == "task"
                else N_("%(where)s: empty (each indicator row needs its number)")
            )
            problems.append(Message(template, where=stt))
            continue
        if not _ARABIC.match(values["number"]):
            problems.append(
                Message(
                    N_("%(where)s: %(value)s is neither a number nor a roman section"),
                    where=stt,
                    value=repr(values["number"]),
                )
            )
            continue
        if not values.get("name"):
            title = "Tên nhiệm vụ" if kind == "task" else "Tên chỉ tiêu"
            where = at_column(table.where(row_number), title)
            problems.append(Message(N_("%(where)s: empty"), where=where))
            continue
        yield row_number, values, section


def _resolve(
    directory: UnitDirectory,
    text: str,
    scope: Unit | None,
    where: Message,
    create: CreateUnit | None,
    problems: list[Message],
) -> list[Unit]:
    try:
        return directory.resolve_cell(text, scope)
    except UnresolvedName as exc:
        if create is not None and not exc.candidates:
            create(exc.phrase, scope)
            return _resolve(directory, text, scope, where, create, problems)
        template = (
            N_("%(where)s: %(problem)s")
            if exc.candidates
            else N_("%(where)s: %(problem)s (add it, or an alias, or import with --create-units)")
        )
        problems.append(Message(template, where=where, problem=exc.message))
        return []


def _validate_items(
    table: Table | None,
    kind: str,
    directory: UnitDirectory,
    scope: Unit | None,
    create: CreateUnit | None,
    sections: dict,
    problems: list[Message],
    warnings: list[Message],
) -> list[_Row]:
    if table is None:
        return []
    spec, required = (
        (TASK_COLUMNS, TASK_REQUIRED) if kind == "task" else (INDICATOR_COLUMNS, INDICATOR_REQUIRED)
    )
    columns = _columns(table, spec, required, problems)
    if any(name not in columns for name in required):
        return []
    items: list[_Row] = []
    refs: dict[str, int] = {}
    for row_number, values, section in _rows(table, columns, kind, problems):
        if values is None:
            key, title = section
            sections.setdefault(key, (len(sections), title))
            continue
        number = values["number"].rstrip(".")
        ref = f"{section[1]}.{number}" if section else number
        where = table.where(row_number)
        if ref in refs:
            template = (
                N_("%(where)s: task %(ref)s repeats %(earlier)s")
                if kind == "task"
                else N_("%(where)s: indicator %(ref)s repeats %(earlier)s")
            )
            stt = at_column(where, COLUMN_TITLES["number"])
            problems.append(
                Message(template, where=stt, ref=ref, earlier=table.where_else(refs[ref]))
            )
            continue
        refs[ref] = row_number
        lead_where = at_column(where, COLUMN_TITLES["lead"])
        lead = _resolve(directory, values.get("lead", ""), scope, lead_where, create, problems)
        if not values.get("lead") and kind == "task":
            problems.append(
                Message(N_("%(where)s: empty (every task needs a lead unit)"), where=lead_where)
            )
        coop_where = at_column(where, COLUMN_TITLES["cooperating"])
        cooperating = [
            u
            for u in _resolve(
                directory, values.get("cooperating", ""), scope, coop_where, create, problems
            )
            if u not in lead
        ]
        if kind == "task":
            timing = parse_timing(values.get("timing", ""))
            if timing.kind is TimingKind.UNKNOWN:
                warnings.append(_timing_unknown(where, values.get("timing", ""), ref))
        else:
            _check_indicator(values, where, problems)
        row = _Row(row_number, where, ref, number, len(items), section, values, lead, cooperating)
        items.append(row)
    return items


def _timing_unknown(where: Message, written: str, ref: str) -> Message:
    if not written:
        return Message(
            N_(
                "%(where)s: timing '(empty)' not understood; task %(task)s is imported and "
                "flagged for review"
            ),
            where=where,
            task=ref,
        )
    return Message(
        N_(
            "%(where)s: timing %(timing)s not understood; task %(task)s is imported and "
            "flagged for review"
        ),
        where=where,
        timing=repr(written),
        task=ref,
    )


def _check_against_plan(plan: Plan | None, rows: list[_Row], problems: list[Message]) -> None:
    """Re-import rules: the same section and STT is the same task, and nothing is guessed.

    A file whose rows were inserted, removed or renumbered would move one task's history onto
    another, so it is refused; a timing change must suit the task's state.
    """
    if plan is None:
        return
    by_ref = {task.ref: task for task in plan.tasks}
    by_name: dict[str, list[Task]] = {}
    for task in plan.tasks:
        by_name.setdefault(task.name_key, []).append(task)
    for row in rows:
        where = row.where
        task = by_ref.get(row.ref)
        name_key = fold_key(row.values["name"])
        elsewhere = [t for t in by_name.get(name_key, []) if t.ref != row.ref]
        if elsewhere and (task is None or task.name_key != name_key):
            problems.append(
                Message(
                    N_(
                        "%(where)s: %(ref)s here is task %(task)s of plan %(plan)s: rows were "
                        "inserted, removed or renumbered. Tasks are matched by section and STT, "
                        "so keep their numbers and add new tasks at the end of a section"
                    ),
                    where=at_column(where, COLUMN_TITLES["number"]),
                    ref=row.ref,
                    task=elsewhere[0].ref,
                    plan=plan.code,
                )
            )
            continue
        if task is None:
            if plan.status == "superseded":
                problems.append(
                    Message(
                        N_("%(where)s: plan %(plan)s is superseded and takes no new tasks"),
                        where=where,
                        plan=plan.code,
                    )
                )
            continue
        timing = parse_timing(row.values.get("timing", ""))
        if timing.raw != task.timing_raw:
            problem = timing_change_problem(task, timing.kind)
            if problem:
                at = at_column(where, COLUMN_TITLES["timing"])
                problems.append(Message(N_("%(where)s: %(problem)s"), where=at, problem=problem))


def _check_indicators_against_plan(
    plan: Plan | None, rows: list[_Row], problems: list[Message]
) -> None:
    """An indicator that has reported values keeps its code and name under its STT: a file
    whose indicator rows were reordered would otherwise judge one indicator's values against
    another's target."""
    if plan is None:
        return
    with_values = set(
        object_session(plan).scalars(
            sa.select(IndicatorValue.indicator_id)
            .join(Indicator)
            .where(Indicator.plan_id == plan.id)
            .distinct()
        )
    )
    reported = {i.ref: i for i in plan.indicators if i.id in with_values}
    for row in rows:
        indicator = reported.get(row.ref)
        if indicator is None:
            continue
        code = row.values.get("code") or None
        if fold_key(row.values["name"]) != fold_key(indicator.name) or (
            code and indicator.code and code != indicator.code
        ):
            problems.append(
                Message(
                    N_(
                        "%(where)s: %(ref)s here is not indicator %(ref)s of plan %(plan)s "
                        "(%(indicator)s), which has reported values: keep each indicator's number"
                    ),
                    where=at_column(row.where, COLUMN_TITLES["number"]),
                    ref=row.ref,
                    plan=plan.code,
                    indicator=indicator.code or indicator.name,
                )
            )


def _check_indicator(values: dict[str, str], where: Message, problems: list[Message]) -> None:
    year = values.get("year", "")
    if year and not (year.isdigit() and 1900 <= int(year) <= 2200):
        problems.append(
            Message(
                N_("%(where)s: %(value)s is not a year"),
                where=at_column(where, COLUMN_TITLES["year"]),
                value=repr(year),
            )
        )


def _target(text: str) -> tuple[str | None, Decimal | None]:
    match = _COMPARATOR.match(text.replace(" ", "") if text else "")
    if not match:
        return None, None
    symbol = {">=": "≥", "<=": "≤"}.get(match[1], match[1])
    try:
        return symbol, Decimal(match[2].replace(",", "."))
    except InvalidOperation:
        return None, None


def _horizon(values: dict[str, str], section_title: str) -> int | None:
    if values.get("year", "").isdigit():
        return int(values["year"])
    match = _YEAR_IN_TITLE.search(section_title or "")
    return int(match[0]) if match else None


PLAN_CODE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_TEXT_LIMITS = {"number": 64, "issuer": 255, "issued_text": 255, "source": 255}


def _check_plan_keys(fields: dict[str, Any], where: Message, problems: list[Message]) -> None:
    """Every key known, every value of its type and size: a typo is named, not ignored."""
    for key, value in fields.items():
        if key not in PLAN_FIELDS:
            problems.append(
                Message(
                    N_("%(where)s: unknown key %(key)s (expected one of: %(keys)s)"),
                    where=where,
                    key=repr(key),
                    keys=list(PLAN_FIELDS),
                )
            )
        elif value is None or (key == "issued_on" and isinstance(value, date)):
            continue
        elif key == "implements":
            if not isinstance(value, str) and not (
                isinstance(value, list) and all(isinstance(x, str) for x in value)
            ):
                problems.append(
                    Message(
                        N_("%(where)s: implements must be text or a list of texts"), where=where
                    )
                )
        elif not isinstance(value, str):
            problems.append(
                Message(
                    N_("%(where)s: %(key)s must be text, got %(value)s"),
                    where=where,
                    key=key,
                    value=repr(value),
                )
            )
        elif len(clean(value)) > _TEXT_LIMITS.get(key, 10_000):
            problems.append(
                Message(
                    N_("%(where)s: %(key)s is longer than %(limit)s characters"),
                    where=where,
                    key=key,
                    limit=_TEXT_LIMITS[key],
                )
            )


def _validate_plan(
    ctx: Context,
    source: PlanSource,
    directory: UnitDirectory,
    create: CreateUnit | None,
    problems: list[Message],
) -> tuple[Unit | None, Plan | None, dict[str, Any]]:
    f = dict(source.fields)
    where = _plan_where(source)
    _check_plan_keys(f, where, problems)
    for key in ("number", "title"):
        if not clean(str(f.get(key) or "")):
            problems.append(Message(N_("%(where)s: %(key)s is required"), where=where, key=key))
    f["number"] = clean(str(f.get("number") or ""))
    f["code"] = clean(str(f.get("code") or "")) or fold_key(f["number"]).replace(" ", "-")
    if not PLAN_CODE.fullmatch(f["code"]):
        problems.append(
            Message(
                N_("%(where)s: code %(code)s: 1 to 64 lower-case letters, digits, '.', '_' or '-'"),
                where=where,
                code=repr(f["code"]),
            )
        )
    issued = f.get("issued_on")
    if isinstance(issued, str) and issued.strip():
        try:
            f["issued_on"] = date.fromisoformat(issued.strip())
        except ValueError:
            problems.append(
                Message(
                    N_("%(where)s: issued_on %(value)s is not a date like 2025-06-04"),
                    where=where,
                    value=repr(issued),
                )
            )
    elif not isinstance(issued, date):
        f["issued_on"] = None
    try:
        f["reporting_regime"] = str(ReportingRegime.parse(f.get("reporting_regime")))
    except InvalidInput as exc:
        problems.append(Message(N_("%(where)s: %(problem)s"), where=where, problem=exc.message))
    implements = f.get("implements") or []
    f["implements"] = [
        clean(x)
        for x in (implements if isinstance(implements, list) else str(implements).split("\n"))
        if clean(x)
    ]
    issuer = None
    if f.get("issuer"):
        at = Message(N_("%(where)s: issuer"), where=where)
        units = _resolve(directory, str(f["issuer"]), None, at, create, problems)
        if len(units) == 1:
            issuer = units[0]
        elif units:
            problems.append(
                Message(
                    N_("%(where)s: issuer %(issuer)s names several units; name one"),
                    where=where,
                    issuer=repr(f["issuer"]),
                )
            )
    if f["number"] and not is_draft_number(f["number"]):
        holder = ctx.session.scalar(
            sa.select(Plan.code).where(Plan.number == f["number"], Plan.code != f["code"])
        )
        if holder is not None:
            problems.append(
                Message(
                    N_("%(where)s: number %(number)s belongs to plan %(plan)s already"),
                    where=where,
                    number=repr(f["number"]),
                    plan=repr(holder),
                )
            )
    supersedes = None
    if f.get("supersedes"):
        wanted = clean(str(f["supersedes"]))
        try:
            supersedes = find_plan(ctx, wanted)
        except NhiemvuError as exc:
            problems.append(
                Message(N_("%(where)s: supersedes: %(problem)s"), where=where, problem=exc.message)
            )
    return issuer, supersedes, f


def _plan_where(source: PlanSource) -> Message:
    """The plan's own fields, as a problem names them: "plan.toml [plan]"."""
    return Message(N_("%(file)s [plan]"), file=source.source)


# --- previewing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitPreview:
    """A unit a row names, resolved; ``new``: the import would create it (--create-units)."""

    code: str
    name: str
    new: bool = False


@dataclass
class RowPreview:
    """One task or indicator row as the import will store it, and what it does to it.

    ``action``: "new", "changed" (``changes`` names the fields) or "unchanged".
    """

    row: int
    section: str  # the roman numeral, "" outside sections
    section_title: str
    ref: str
    number: str
    name: str
    lead: list[UnitPreview]
    cooperating: list[UnitPreview]
    action: str
    changes: list[str] = field(default_factory=list)


@dataclass
class TaskPreview(RowPreview):
    timing: Timing = field(default_factory=lambda: parse_timing(""))
    outputs: str = ""


@dataclass
class IndicatorPreview(RowPreview):
    code: str = ""
    measure: str = ""
    target_text: str = ""
    comparator: str | None = None
    target_value: Decimal | None = None
    year: int | None = None


@dataclass
class PlanPreview:
    code: str
    number: str
    title: str
    issuer: UnitPreview | None
    issuer_text: str
    issued_on: date | None
    issued_text: str
    reporting_regime: str
    reporting_regime_text: str
    implements: list[str]
    updates: str | None  # the code of the plan this import updates; None: a new plan
    changes: list[str]  # the plan's fields the import changes
    supersedes: tuple[str, str] | None  # (code, number) of the plan it replaces


@dataclass
class ImportPreview:
    """What :func:`import_plan` would do with a source, computed without writing anything."""

    source: str
    plan: PlanPreview
    tasks: list[TaskPreview]
    indicators: list[IndicatorPreview]
    untouched: list[tuple[str, str]]  # (ref, name) of the plan's tasks the file does not list
    # English text, each a Text (workflow.messages) that the web app shows in its reader's
    # language; a problem names the table, the row and the column, and any refuses the import
    problems: list[str]
    warnings: list[str]

    @property
    def accepted(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(1 for task in self.tasks if task.action == action)

    def task_sections(self) -> list[tuple[tuple[str, str], list[TaskPreview]]]:
        """The task rows grouped by section, in file order: [((number, title), rows)]."""
        groups: list[tuple[tuple[str, str], list[TaskPreview]]] = []
        for task in self.tasks:
            key = (task.section, task.section_title)
            if not groups or groups[-1][0] != key:
                groups.append((key, []))
            groups[-1][1].append(task)
        return groups


def preview_import(
    ctx: Context, actor: User, source: PlanSource, *, create_units: bool = False
) -> ImportPreview:
    """What importing ``source`` would store and change, and its problems; writes nothing.

    The same validation as :func:`import_plan`; units it would create are shown as new ones.
    """
    v = _validate(ctx, actor, source, create_units=create_units, persist_units=False)
    plan = v.plan
    titles = {key: title for key, (_, title) in v.sections.items()}
    with ctx.session.no_autoflush:
        tasks_by_ref = {task.ref: task for task in plan.tasks} if plan else {}
        tasks = [_task_preview(row, tasks_by_ref.get(row.ref), titles) for row in v.tasks]
        indicators_by_ref = {i.ref: i for i in plan.indicators} if plan else {}
        indicators = [
            _indicator_preview(row, indicators_by_ref.get(row.ref), titles) for row in v.indicators
        ]
        listed = {row.ref for row in v.tasks}
        untouched = [(t.ref, t.name) for t in tasks_by_ref.values() if t.ref not in listed]
        if not v.tasks:
            untouched = []
        plan_preview = _plan_preview(source, v)
    return ImportPreview(
        source.source,
        plan_preview,
        tasks,
        indicators,
        untouched,
        [as_text(p) for p in v.problems],
        [as_text(w) for w in v.warnings],
    )


def _unit_preview(unit: Unit) -> UnitPreview:
    return UnitPreview(unit.code, unit.name, unit.id is None)


def _row_preview(row: _Row, titles: dict, action: str, changes: list[str]) -> dict[str, Any]:
    return {
        "row": row.row_number,
        "section": row.section[1] if row.section else "",
        "section_title": clean(titles.get(row.section, "")) if row.section else "",
        "ref": row.ref,
        "number": row.number,
        "name": row.values["name"],
        "lead": [_unit_preview(u) for u in row.lead],
        "cooperating": [_unit_preview(u) for u in row.cooperating],
        "action": action,
        "changes": changes,
    }


def _action(existing: object | None, changes: list[str]) -> str:
    if existing is None:
        return "new"
    return "changed" if changes else "unchanged"


def _task_preview(row: _Row, task: Task | None, titles: dict) -> TaskPreview:
    timing = parse_timing(row.values.get("timing", ""))
    changes = sorted(_task_changes(task, row, _task_values(row, timing))) if task else []
    if task is not None and task.position != row.position:
        changes.append("position")  # rows before it added or left out: updated all the same
    return TaskPreview(
        **_row_preview(row, titles, _action(task, changes), changes),
        timing=timing,
        outputs=row.values.get("outputs", ""),
    )


def _indicator_preview(row: _Row, indicator: Indicator | None, titles: dict) -> IndicatorPreview:
    title = clean(titles.get(row.section, "")) if row.section else ""
    values = _indicator_values(row, title)
    changes = []
    if indicator is not None:
        changes = [k for k, v in values.items() if getattr(indicator, k) != v]
        if _linked_units(indicator.unit_links) != _row_units(row):
            changes.append("units")
    return IndicatorPreview(
        **_row_preview(row, titles, _action(indicator, changes), changes),
        code=values["code"] or "",
        measure=values["measure"],
        target_text=values["target_text"],
        comparator=values["comparator"],
        target_value=values["target_value"],
        year=values["horizon_year"],
    )


def _plan_preview(source: PlanSource, v: _Validated) -> PlanPreview:
    values = _plan_values(source, v)
    changes = []
    if v.plan is not None:
        changes = [k for k, value in values.items() if getattr(v.plan, k) != value]
    supersedes = (v.supersedes.code, v.supersedes.number) if v.supersedes else None
    return PlanPreview(
        code=v.fields["code"],
        number=values["number"],
        title=values["title"],
        issuer=_unit_preview(v.issuer) if v.issuer else None,
        issuer_text=values["issuer_text"],
        issued_on=values["issued_on"],
        issued_text=values["issued_text"],
        reporting_regime=values["reporting_regime"],
        reporting_regime_text=values["reporting_regime_text"],
        implements=values["implements"],
        updates=v.plan.code if v.plan is not None else None,
        changes=changes,
        supersedes=supersedes,
    )


# --- applying --------------------------------------------------------------------------------------


def import_plan(
    ctx: Context,
    actor: User,
    source: PlanSource,
    *,
    create_units: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate everything, then write it all, or raise :class:`ImportFailed` and write nothing."""
    validated = _validate(ctx, actor, source, create_units=create_units, persist_units=True)
    if validated.problems:
        raise ImportFailed(source.source, validated.problems)
    return _apply(ctx, actor, source, validated, progress)


def _validate(
    ctx: Context, actor: User, source: PlanSource, *, create_units: bool, persist_units: bool
) -> _Validated:
    """Everything an import checks, for the import and its preview alike.

    Units nobody knows are created when ``create_units``; a preview passes
    ``persist_units=False`` and they exist only in this validation (id None).
    """
    require(actor, Action.IMPORT)
    problems: list[Message] = []
    warnings: list[Message] = []
    directory = UnitDirectory(ctx.session)
    create = (
        functools.partial(directory.create_unit, persist=persist_units) if create_units else None
    )
    issuer, supersedes, fields = _validate_plan(ctx, source, directory, create, problems)
    sections: dict[tuple[str, str], tuple[int, str]] = {}
    tasks = _validate_items(
        source.tasks, "task", directory, issuer, create, sections, problems, warnings
    )
    indicators = _validate_items(
        source.indicators, "indicator", directory, issuer, create, sections, problems, warnings
    )
    existing = ctx.session.scalar(sa.select(Plan).where(Plan.code == fields["code"]))
    _check_organisation(actor, _plan_where(source), issuer, existing, supersedes, problems)
    _check_against_plan(existing, tasks, problems)
    _check_indicators_against_plan(existing, indicators, problems)
    return _Validated(
        existing, fields, issuer, supersedes, sections, tasks, indicators, problems, warnings
    )


def _check_organisation(
    actor: User,
    where: Message,
    issuer: Unit | None,
    existing: Plan | None,
    supersedes: Plan | None,
    problems: list[Message],
) -> None:
    """An Office imports, updates and replaces only its own organisation's plans: said in the
    preview as a problem, like any other, rather than found out at the commit."""
    if actor.role == "admin":
        return
    if not in_organisation(actor, issuer):
        problems.append(
            Message(
                N_(
                    "%(where)s: issuer %(issuer)s is another organisation: an Office imports "
                    "only its own organisation's plans"
                ),
                where=where,
                issuer=repr(issuer.name),
            )
        )
    if existing is not None and not in_organisation(actor, existing.issuer):
        problems.append(
            Message(
                N_(
                    "%(where)s: code %(code)s is plan %(plan)s of another organisation: give "
                    "this plan a code of its own"
                ),
                where=where,
                code=repr(existing.code),
                plan=existing.number,
            )
        )
    if supersedes is not None and (
        not can(actor, Action.SUPERSEDE) or not in_organisation(actor, supersedes.issuer)
    ):
        problems.append(
            Message(
                N_("%(where)s: supersedes: plan %(plan)s is not one you may replace"),
                where=where,
                plan=supersedes.number,
            )
        )


def _apply(
    ctx: Context,
    actor: User,
    source: PlanSource,
    v: _Validated,
    progress: Progress | None,
) -> ImportResult:
    session = ctx.session
    f = v.fields
    plan = v.plan
    before = (plan.reporting_regime, plan.issued_on) if plan is not None else None
    named = (plan.number, plan.title) if plan is not None else None
    if plan is None:
        plan = Plan(code=f["code"], number=f["number"])
        session.add(plan)
    for key, value in _plan_values(source, v).items():
        setattr(plan, key, value)
    session.flush()
    section_rows = _apply_sections(session, plan, v.sections)
    result = ImportResult(plan, warnings=[as_text(w) for w in v.warnings])
    if before is not None and before != (plan.reporting_regime, plan.issued_on):
        _follow_plan_change(ctx, actor, plan, before)
    if named is not None and named != (plan.number, plan.title):
        announce_again(session, Task.plan_id == plan.id)  # the calendars show both
    tasks_by_ref = {task.ref: task for task in plan.tasks}
    for row in v.tasks:
        _apply_task(ctx, actor, plan, tasks_by_ref.get(row.ref), row, section_rows, result)
        if progress:
            progress(1)
    for row in v.indicators:
        _apply_indicator(session, plan, row, section_rows)
        result.indicators += 1
        if progress:
            progress(1)
    if v.tasks:
        listed = {r.ref for r in v.tasks}
        missing = [t.ref for t in plan.tasks if t.ref not in listed]
        if missing:
            untouched = N_("tasks not in this file were left as they are: %(tasks)s")
            result.warnings.append(as_text(Message(untouched, tasks=missing)))
    if v.supersedes is not None and plan.supersedes_id != v.supersedes.id:
        result.superseded = supersede_plan(ctx, actor, plan, v.supersedes)
    session.flush()
    return result


def _plan_values(source: PlanSource, v: _Validated) -> dict[str, Any]:
    """The plan's fields as the import stores them. A file that names no issuer keeps the
    plan's own: an issuer-less plan would belong to every organisation."""
    f = v.fields
    keep = v.issuer is None and v.plan is not None and not clean(str(f.get("issuer") or ""))
    return {
        "number": f["number"],
        "title": clean(str(f.get("title") or "")),
        "issuer": v.plan.issuer if keep else v.issuer,
        "issuer_text": v.plan.issuer_text if keep else clean(str(f.get("issuer") or "")),
        "issued_on": f.get("issued_on"),
        "issued_text": clean(str(f.get("issued_text") or "")),
        "implements": f["implements"],
        "reporting_regime": f["reporting_regime"],
        "reporting_regime_text": clean(str(f.get("reporting_regime_text") or "")),
        "source": clean(str(f.get("source") or source.source)),
    }


def _follow_plan_change(
    ctx: Context, actor: User, plan: Plan, before: tuple[str, date | None]
) -> None:
    """A new reporting regime or plan date changes what every started task owes."""
    changes = {
        "reporting_regime": [before[0], plan.reporting_regime],
        "issued_on": [_iso(before[1]), _iso(plan.issued_on)],
    }
    for task in plan.tasks:
        if task.status == "draft":
            continue
        with ctx.session.no_autoflush:
            due_changes = regenerate(ctx.session, task, ctx.generation())
            if due_changes:
                record_change(
                    ctx,
                    task,
                    actor,
                    "plan_changed",
                    note=plan.source,
                    changes=changes,
                    due_changes=due_changes,
                )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _apply_sections(
    session: Session, plan: Plan, sections: dict[tuple[str, str], tuple[int, str]]
) -> dict[tuple[str, str], Section]:
    existing = {(s.kind, s.number): s for s in plan.sections}
    for (kind, number), (_, title) in sections.items():
        section = existing.get((kind, number))
        if section is None:
            taken = [s.position for s in existing.values() if s.kind == kind]
            position = max(taken, default=-1) + 1  # in file order, after the plan's own
            section = Section(
                plan=plan, kind=kind, number=number, position=position, title=clean(title)
            )
            session.add(section)
            existing[kind, number] = section
        else:
            section.title = clean(title)
    session.flush()
    return existing


def _sync_links(
    links: list, lead: list[Unit], cooperating: list[Unit], factory: type[TaskUnit | IndicatorUnit]
) -> None:
    """Make a task's or indicator's unit links match, updating rows in place.

    Links are keyed by unit; replacing the collection wholesale would insert a row before
    deleting the old one with the same key.
    """
    wanted = [(u, "lead", i) for i, u in enumerate(lead)]
    wanted += [(u, "cooperating", i) for i, u in enumerate(cooperating)]
    by_unit = {link.unit_id: link for link in links if link.unit_id is not None}
    keep = {u.id for u, _, _ in wanted}
    for link in [link for link in links if link.unit_id not in keep]:
        links.remove(link)
    for unit, role, position in wanted:
        link = by_unit.get(unit.id)
        if link is None:
            links.append(factory(unit=unit, role=role, position=position))
        else:
            link.role, link.position = role, position


def _apply_task(
    ctx: Context,
    actor: User,
    plan: Plan,
    task: Task | None,
    row: _Row,
    sections: dict,
    result: ImportResult,
) -> None:
    session = ctx.session
    timing = parse_timing(row.values.get("timing", ""))
    wanted = _task_values(row, timing)
    section = sections.get(row.section) if row.section else None
    with session.no_autoflush:
        if task is None:
            task = Task(
                plan=plan,
                ref=row.ref,
                status="draft",
                position=row.position,
                section=section,
                name_key=fold_key(wanted["name"]),
                **wanted,
            )
            task.timing = timing
            _sync_links(task.unit_links, row.lead, row.cooperating, TaskUnit)
            session.add(task)
            record(
                session,
                task,
                at=ctx.now(),
                actor=actor,
                action="imported",
                to_status="draft",
                note=plan.source,
                changes={"timing": timing.kind.value},
            )
            result.created += 1
            return
        changed = _task_changes(task, row, wanted)
        if not changed and task.position == row.position:
            result.unchanged += 1
            return
        for key, (_, value) in changed.items():
            if key != "units":
                setattr(task, key, value)
        task.position, task.section, task.name_key = row.position, section, fold_key(task.name)
        if "units" in changed:
            _sync_links(task.unit_links, row.lead, row.cooperating, TaskUnit)
        due_changes = None
        if "timing_raw" in changed:
            task.timing = timing
            due_changes = regenerate(session, task, ctx.generation())
        record_change(
            ctx,
            task,
            actor,
            "reimported",
            note=plan.source,
            changes={"fields": sorted(changed)},
            due_changes=due_changes,
        )
        result.updated += 1


def _task_values(row: _Row, timing: Timing) -> dict[str, str]:
    """A task's text fields as the import stores them."""
    return {
        "number": row.number,
        "name": row.values["name"],
        "outputs": row.values.get("outputs", ""),
        "lead_units_text": row.values.get("lead", ""),
        "cooperating_units_text": row.values.get("cooperating", ""),
        "timing_raw": timing.raw,
    }


def _task_changes(task: Task, row: _Row, wanted: dict[str, str]) -> dict[str, list]:
    """What a re-import changes in a task: {field: [before, after]}, "units" for its units."""
    changed = {k: [getattr(task, k), v] for k, v in wanted.items() if getattr(task, k) != v}
    old_units, units = _linked_units(task.unit_links), _row_units(row)
    if old_units != units:
        changed["units"] = [old_units, units]
    return changed


def _linked_units(links: list) -> list[tuple[str, int | None]]:
    ordered = sorted(links, key=lambda link: (link.role != "lead", link.position))
    return [(link.role, link.unit_id) for link in ordered]


def _row_units(row: _Row) -> list[tuple[str, int | None]]:
    return [("lead", u.id) for u in row.lead] + [("cooperating", u.id) for u in row.cooperating]


def _apply_indicator(session: Session, plan: Plan, row: _Row, sections: dict) -> None:
    indicator = session.scalar(
        sa.select(Indicator).where(Indicator.plan_id == plan.id, Indicator.ref == row.ref)
    )
    if indicator is None:
        indicator = Indicator(plan=plan, ref=row.ref)
        session.add(indicator)
    section = sections.get(row.section) if row.section else None
    indicator.section, indicator.position = section, row.position
    for key, value in _indicator_values(row, clean(section.title) if section else "").items():
        setattr(indicator, key, value)
    _sync_links(indicator.unit_links, row.lead, row.cooperating, IndicatorUnit)


def _indicator_values(row: _Row, section_title: str) -> dict[str, Any]:
    """An indicator's fields as the import stores them (its section and position apart)."""
    values = row.values
    comparator, value = _target(values.get("target", ""))
    return {
        "number": row.number,
        "code": values.get("code") or None,
        "name": values["name"],
        "measure": values.get("measure", ""),
        "target_text": values.get("target", ""),
        "comparator": comparator,
        "target_value": value,
        "horizon_year": _horizon(values, section_title),
        "central_agency": values.get("central", ""),
        "lead_units_text": values.get("lead", ""),
        "cooperating_units_text": values.get("cooperating", ""),
    }


def needs_plan(source: PlanSource | Table) -> bool:
    """Whether ``source`` holds only tables (a bare table, or a Word file's appendices without
    their plan's heading), to be imported into a plan named apart from it."""
    return isinstance(source, Table) or source.appendix_only


def plan_source_for_table(ctx: Context, plan_ref: str, table: Table | PlanSource) -> PlanSource:
    """A bare tasks table, or the appendices of a document without its plan's heading (tasks
    and indicators), to be imported into an existing plan."""
    plan = find_plan(ctx, plan_ref)
    fields = {
        "code": plan.code,
        "number": plan.number,
        "title": plan.title,
        "issuer": plan.issuer_text or (plan.issuer.code if plan.issuer else ""),
        "issued_on": plan.issued_on,
        "issued_text": plan.issued_text,
        "implements": plan.implements,
        "reporting_regime": plan.reporting_regime,
        "reporting_regime_text": plan.reporting_regime_text,
        "source": plan.source,
    }
    if isinstance(table, PlanSource):
        return PlanSource(table.source, fields, tasks=table.tasks, indicators=table.indicators)
    return PlanSource(table.source, fields, tasks=table)


def count_rows(source: PlanSource) -> int:
    return sum(len(t.rows) for t in (source.tasks, source.indicators) if t is not None)
