"""The preview of an import: every row as it will be stored and what the import will do to it,
the problems and warnings the import would give, and nothing written (workflow/importer.py
``preview_import``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.conftest import TASK_HEADER, user
from tests.test_importer import build_workbook
from workflow.context import Engine
from workflow.errors import ImportFailed, PermissionDenied
from workflow.importer import (
    ImportPreview,
    PlanSource,
    Table,
    import_plan,
    plan_source_for_table,
    preview_import,
    read_source,
)
from workflow.models import DueItem, Indicator, Plan, Section, Task, TaskEvent, TaskUnit, Unit

WRITTEN = (Plan, Section, Task, TaskUnit, TaskEvent, DueItem, Indicator, Unit)


def counts(engine: Engine) -> dict[str, int]:
    with engine.context(write=False) as ctx:
        return {
            model.__name__: ctx.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in WRITTEN
        }


def preview(engine: Engine, source: PlanSource, **options) -> ImportPreview:
    with engine.context() as ctx:  # a writing unit of work: the preview itself must not write
        return preview_import(ctx, user(ctx, "vps.office"), source, **options)


def imported(engine: Engine, source: PlanSource, **options):
    with engine.context() as ctx:
        result = import_plan(ctx, user(ctx, "vps.office"), source, **options)
        return result.created, result.updated, result.unchanged, result.indicators


def workbook(tmp_path: Path, edit=None) -> PlanSource:
    """The workbook of tests/test_importer.py: a plan sheet, two sections of tasks, indicators;
    ``edit(workbook)`` changes it first."""
    path = build_workbook(tmp_path / "ke-hoach.xlsx")
    if edit is not None:
        book = load_workbook(path)
        edit(book)
        book.save(path)
    source = read_source(path)
    assert isinstance(source, PlanSource)
    return source


def test_a_new_plan_is_shown_row_by_row_as_it_will_be_stored(
    organisation: Engine, tmp_path: Path
) -> None:
    before = counts(organisation)
    shown = preview(organisation, workbook(tmp_path))
    assert counts(organisation) == before

    assert shown.accepted and shown.problems == [] and shown.warnings == []
    plan = shown.plan
    assert (plan.code, plan.number, plan.updates, plan.changes) == (
        "xlsx-2026",
        "15/KH-SKHCN",
        None,
        [],
    )
    assert plan.title == "Kế hoạch nhập từ bảng tính"
    assert (plan.issuer.code, plan.issuer.new) == ("SKHCN", False)
    assert (plan.issued_on, plan.reporting_regime) == (date(2026, 3, 2), "annual:15/04")
    assert plan.implements == ["Nghị quyết số 57-NQ/TW", "Nghị quyết số 03/NQ-CP"]

    tasks = {t.ref: t for t in shown.tasks}
    assert list(tasks) == ["I.1", "I.2", "II.1"]
    first = tasks["I.1"]
    assert (first.row, first.section, first.section_title) == (3, "I", "Nội dung thực hiện")
    assert first.name == "Xây dựng kế hoạch" and first.action == "new"
    assert [u.name for u in first.lead] == ["Văn phòng Sở"]
    assert [u.code for u in first.cooperating] == ["QLKHCN"]
    assert (first.timing.raw, first.timing.kind, first.timing.deadline) == (
        "Quý II/2026",
        "fixed",
        date(2026, 6, 30),
    )
    assert tasks["I.2"].timing.kind == "ongoing"
    assert tasks["I.2"].outputs == "Báo cáo kết quả kết nối"
    assert (tasks["II.1"].timing.kind, tasks["II.1"].timing.frequency) == ("recurring", "quarterly")
    assert [u.code for u in tasks["II.1"].cooperating] == ["QLKHCN", "QLTDC", "TTKD"]
    assert [(key, [t.ref for t in rows]) for key, rows in shown.task_sections()] == [
        (("I", "Nội dung thực hiện"), ["I.1", "I.2"]),
        (("II", "Tổ chức thực hiện"), ["II.1"]),
    ]
    indicators = {i.ref: i for i in shown.indicators}
    assert (indicators["1"].code, indicators["1"].comparator) == ("0407", "≥")
    assert (indicators["1"].target_value, indicators["1"].year) == (Decimal("40"), 2030)
    assert [u.code for u in indicators["2"].lead] == ["QLKHCN"]
    assert (shown.count("new"), shown.count("changed"), shown.untouched) == (3, 0, [])

    # what the import then does is what the preview said
    assert imported(organisation, workbook(tmp_path)) == (3, 0, 0, 2)
    with organisation.context(write=False) as ctx:
        stored = ctx.session.scalar(sa.select(Task).where(Task.ref == "I.1"))
        assert (stored.timing_kind, stored.timing_deadline) == ("fixed", date(2026, 6, 30))


def test_a_reimport_shows_what_changes_and_what_the_file_leaves_out(
    organisation: Engine, tmp_path: Path
) -> None:
    imported(organisation, workbook(tmp_path))
    again = preview(organisation, workbook(tmp_path))
    assert again.plan.updates == "xlsx-2026" and again.plan.changes == []
    assert [t.action for t in again.tasks] == ["unchanged"] * 3
    assert [i.action for i in again.indicators] == ["unchanged"] * 2

    def edit(book) -> None:
        sheet = book["Nhiệm vụ"]
        sheet["E3"] = "Quý III/2026"  # task I.1: a new timing
        sheet.delete_rows(4)  # task I.2 left out
        book["Kế hoạch"]["B3"] = "Kế hoạch nhập từ bảng tính (sửa đổi)"
        book["Chỉ tiêu"]["E2"] = "≥ 45"

    before = counts(organisation)
    changed = preview(organisation, workbook(tmp_path, edit))
    assert counts(organisation) == before
    tasks = {t.ref: t for t in changed.tasks}
    assert (tasks["I.1"].action, tasks["I.1"].changes) == ("changed", ["timing_raw"])
    assert tasks["I.1"].timing.deadline == date(2026, 9, 30)
    assert (tasks["II.1"].action, tasks["II.1"].changes) == ("changed", ["position"])
    assert changed.untouched == [("I.2", "Kết nối mạng lưới đổi mới sáng tạo")]
    assert changed.plan.changes == ["title"]
    indicator = changed.indicators[0]
    assert indicator.action == "changed"
    assert set(indicator.changes) == {"target_text", "target_value"}
    assert imported(organisation, workbook(tmp_path, edit)) == (0, 2, 0, 2)


def test_create_units_shows_new_units_and_creates_none(
    organisation: Engine, tmp_path: Path
) -> None:
    table = Table(
        "bo-sung.csv",
        TASK_HEADER,
        [
            (2, ["1", "Nhiệm vụ của phòng mới", "Phòng Mới Thành Lập", "Văn phòng Sở", "2027"]),
            (3, ["2", "Nhiệm vụ thứ hai", "Phòng Mới Thành Lập", "", "Hằng năm"]),
        ],
    )
    imported(organisation, workbook(tmp_path))
    with organisation.context(write=False) as ctx:
        source = plan_source_for_table(ctx, "xlsx-2026", table)
    before = counts(organisation)

    refused = preview(organisation, source)
    assert not refused.accepted
    assert any(
        "bo-sung.csv row 2, column 'Đơn vị chủ trì'" in p and "Phòng Mới Thành Lập" in p
        for p in refused.problems
    )

    shown = preview(organisation, source, create_units=True)
    assert counts(organisation) == before
    assert shown.accepted, shown.problems
    leads = [t.lead for t in shown.tasks]
    assert [[(u.name, u.new) for u in lead] for lead in leads] == [
        [("Phòng Mới Thành Lập", True)],
        [("Phòng Mới Thành Lập", True)],  # the same new unit, named twice, created once
    ]
    assert [(u.code, u.new) for u in shown.tasks[0].cooperating] == [("VPS", False)]

    imported(organisation, source, create_units=True)
    after = counts(organisation)
    assert after["Unit"] == before["Unit"] + 1
    with organisation.context(write=False) as ctx:
        created = ctx.session.scalar(sa.select(Unit).where(Unit.name == "Phòng Mới Thành Lập"))
        assert created.code == leads[0][0].code and created.parent.code == "SKHCN"


def test_the_preview_gives_the_import_s_problems_and_warnings(organisation: Engine) -> None:
    rows = [
        (2, ["1", "Nhiệm vụ đúng", "Văn phòng Sở", "", "3/2027"]),
        (3, ["2", "", "Văn phòng Sở", "", "2027"]),
        (4, ["x", "Nhiệm vụ ba", "Văn phòng Sở", "", "2027"]),
        (5, ["4", "Nhiệm vụ bốn", "Phòng Không Có Thật", "", "2027"]),
        (6, ["5", "Nhiệm vụ năm", "Văn phòng Sở", "", "Theo tiến độ dự án"]),
    ]
    fields = {"code": "loi", "number": "9/KH-SKHCN", "title": "Lỗi", "issuer": "SKHCN"}
    source = PlanSource("loi.toml", fields, tasks=Table("loi.csv", TASK_HEADER, rows))
    before = counts(organisation)
    shown = preview(organisation, source)
    with pytest.raises(ImportFailed) as refused, organisation.context() as ctx:
        import_plan(ctx, user(ctx, "vps.office"), source)
    assert counts(organisation) == before
    assert shown.problems == refused.value.problems
    assert [p.split(":")[0] for p in shown.problems] == [
        "loi.csv row 3, column 'Tên nhiệm vụ'",
        "loi.csv row 4, column 'STT'",
        "loi.csv row 5, column 'Đơn vị chủ trì'",
    ]
    assert [t.ref for t in shown.tasks] == ["1", "4", "5"]  # the rows that could be read
    assert shown.tasks[1].lead == []
    assert shown.tasks[2].timing.kind == "unknown"
    assert len(shown.warnings) == 1
    assert "loi.csv row 6" in shown.warnings[0] and "flagged for review" in shown.warnings[0]


def test_only_the_office_previews(organisation: Engine, tmp_path: Path) -> None:
    source = workbook(tmp_path)
    with organisation.context() as ctx, pytest.raises(PermissionDenied):
        preview_import(ctx, user(ctx, "qlkhcn.head"), source)
    with organisation.context() as ctx:  # another organisation's plan: said as a problem
        shown = preview_import(ctx, user(ctx, "vinhtuy.office"), source)
    assert any(
        "issuer 'Sở Khoa học và Công nghệ' is another organisation" in p for p in shown.problems
    )


def _ward_plan(**fields) -> PlanSource:
    """A plan of Vĩnh Tuy ward, as its Office would import it."""
    rows = [(2, ["1", "Việc của phường", "Phòng Văn hóa - Xã hội", "", "2027"])]
    return PlanSource(
        "phuong.toml",
        {"number": "99/KH-UBND", "title": "Kế hoạch của phường", "issuer": "UBND phường Vĩnh Tuy"}
        | fields,
        tasks=Table("phuong.csv", TASK_HEADER, rows),
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"code": "xlsx-2026"}, "code 'xlsx-2026' is plan 15/KH-SKHCN of another organisation"),
        ({"code": "vt-99", "supersedes": "xlsx-2026"}, "supersedes: plan 15/KH-SKHCN is not one"),
    ],
)
def test_an_office_cannot_overwrite_or_replace_another_organisation_s_plan(
    organisation: Engine, tmp_path: Path, fields: dict, says: str
) -> None:
    """The preview names it, and the import refuses it whole: the plan stays as it was."""
    with organisation.context() as ctx:
        import_plan(ctx, user(ctx, "vps.office"), workbook(tmp_path))
    before = counts(organisation)
    with organisation.context() as ctx:
        shown = preview_import(ctx, user(ctx, "vinhtuy.office"), _ward_plan(**fields))
    assert any(says in p for p in shown.problems), shown.problems
    with organisation.context() as ctx, pytest.raises(ImportFailed) as refused:
        import_plan(ctx, user(ctx, "vinhtuy.office"), _ward_plan(**fields))
    assert says in str(refused.value)
    assert counts(organisation) == before
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "xlsx-2026"))
        assert (plan.number, plan.status) == ("15/KH-SKHCN", "active")
