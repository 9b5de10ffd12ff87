"""The importer: seed plans, re-imports, all-or-nothing validation, CSV and XLSX reading."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests.conftest import TASK_HEADER, task_by_ref, user
from workflow.config import PROJECT_ROOT
from workflow.context import Engine
from workflow.errors import ImportFailed, InvalidInput, NotFound, PermissionDenied
from workflow.importer import (
    PlanSource,
    Table,
    import_plan,
    plan_source_for_table,
    read_source,
)
from workflow.models import DueItem, Indicator, Plan, Section, Task, TaskEvent, Unit
from workflow.tasks import start_plan

SEEDS = PROJECT_ROOT / "workflow" / "data" / "seeds"
MANIFESTS = sorted(SEEDS.glob("*.toml"))
HEADER_WITH_OUTPUTS = [*TASK_HEADER, "Sản phẩm"]


# --- helpers --------------------------------------------------------------------------------


def import_file(
    engine: Engine,
    path: Path,
    *,
    plan: str | None = None,
    actor: str = "admin",
    create_units: bool = False,
) -> dict:
    """Import one file the way ``nhiemvu import`` does; return what the user is told."""
    with engine.context() as ctx:
        source = read_source(path)
        if isinstance(source, Table):
            assert plan is not None, "a bare table needs a plan"
            source = plan_source_for_table(ctx, plan, source)
        assert isinstance(source, PlanSource)
        result = import_plan(ctx, user(ctx, actor), source, create_units=create_units)
        return {
            "code": result.plan.code,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "indicators": result.indicators,
            "warnings": list(result.warnings),
            "superseded": list(result.superseded),
        }


def start(engine: Engine, plan_code: str, actor: str = "admin") -> None:
    with engine.context() as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == plan_code))
        start_plan(ctx, user(ctx, actor), plan.id)


def count(engine: Engine, model: type) -> int:
    """Rows of ``model``, read in a unit of work of its own (what another user would see)."""
    with engine.context(write=False) as ctx:
        return ctx.session.scalar(sa.select(sa.func.count()).select_from(model))


def write_csv(
    path: Path, rows: list[list[str]], *, delimiter: str = ",", bom: bool = False
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def write_plan(
    folder: Path,
    rows: list[list[str]],
    *,
    header: list[str] = TASK_HEADER,
    code: str = "thu-nghiem",
    number: str = "12/KH-SKHCN",
    issuer: str = "Sở Khoa học và Công nghệ",
    extra: str = "",
) -> Path:
    """A plan manifest ``plan.toml`` with its ``tasks.csv`` beside it."""
    write_csv(folder / "tasks.csv", [header, *rows])
    manifest = folder / "plan.toml"
    manifest.write_text(
        "[plan]\n"
        f'code = "{code}"\n'
        f'number = "{number}"\n'
        'title = "Kế hoạch thử nghiệm"\n'
        f'issuer = "{issuer}"\n'
        f"{extra}"
        'tasks = "tasks.csv"\n',
        encoding="utf-8",
    )
    return manifest


# Row 1 is the header: the section is row 2, the tasks rows 3, 4 and 5.
GOOD_ROWS = [
    ["I.", "Nội dung thực hiện", "", "", ""],
    ["1", "Xây dựng kế hoạch triển khai", "Văn phòng Sở", "Các phòng đơn vị", "3/2025"],
    ["2", "Tuyên truyền, phổ biến", "Phòng Quản lý KH&CN", "", "Thường xuyên"],
    ["3", "Tổng hợp, báo cáo kết quả", "Văn phòng", "", "Hàng năm"],
]


def with_row(index: int, row: list[str]) -> list[list[str]]:
    rows = [list(r) for r in GOOD_ROWS]
    rows[index] = row
    return rows


def lead_codes(task: Task) -> list[str]:
    return [u.code for u in task.lead_units]


def cooperating_codes(task: Task) -> list[str]:
    return [u.code for u in task.cooperating_units]


def due_snapshot(engine: Engine) -> dict[int, tuple]:
    with engine.context(write=False) as ctx:
        items = ctx.session.scalars(sa.select(DueItem)).all()
        return {
            i.id: (i.task_id, i.kind, i.period_key, i.due_date, i.sequence, i.status) for i in items
        }


@pytest.fixture
def seeded(organisation: Engine) -> Engine:
    """Every seed manifest imported, in file order, by the admin."""
    for manifest in MANIFESTS:
        import_file(organisation, manifest)
    return organisation


# --- the seed plans -------------------------------------------------------------------------


def test_every_seed_manifest_imports(organisation: Engine) -> None:
    expected = {
        "skhcn-57-2025": (21, 8),
        "laichau-2244": (7, 0),
        "laichau-1969": (8, 0),
        "vinhtuy-2244": (3, 6),
        "vpubnd-160": (0, 0),
        "vpubnd-546": (22, 0),
    }
    results = {}
    for manifest in MANIFESTS:
        result = import_file(organisation, manifest)
        results[result["code"]] = (result["created"], result["indicators"])
        assert result["updated"] == result["unchanged"] == 0, manifest.name
    assert results == expected
    assert count(organisation, Plan) == 6
    assert count(organisation, Task) == 61
    assert count(organisation, Indicator) == 14


def test_skhcn_appendix_ii_has_21_tasks_in_seven_sections(seeded: Engine) -> None:
    with seeded.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "skhcn-57-2025"))
        sections = [s for s in plan.sections if s.kind == "task"]
        assert [s.number for s in sections] == ["I", "II", "III", "IV", "V", "VI", "VII"]
        sizes = [sum(1 for t in plan.tasks if t.section_id == s.id) for s in sections]
        assert sizes == [10, 4, 2, 1, 1, 2, 1]
        assert len(plan.tasks) == 21
        assert sections[6].title.startswith("Tăng cường hợp tác quốc tế")
        assert [t.ref for t in plan.tasks][:3] == ["I.1", "I.2", "I.3"]
        assert plan.issuer.code == "SKHCN"
        assert plan.issuer_text == "Sở Khoa học và Công nghệ"
        assert plan.issued_on is None
        assert plan.issued_text == "ngày … tháng 02 năm 2025"
        assert len(plan.implements) == 2


def test_task_with_two_lead_units(seeded: Engine) -> None:
    with seeded.context(write=False) as ctx:
        task = task_by_ref(ctx, "skhcn-57-2025", "VI.1")
        assert lead_codes(task) == ["QLKHCN", "QLTDC"]
        assert cooperating_codes(task) == ["VPS"]  # "Văn phòng" in the Department's plan
        assert task.lead_units_text == "Phòng Quản lý KHCN, phòng Quản lý TĐC"
        assert task.cooperating_units_text == "Văn phòng"


def test_group_phrase_expands_to_members_without_the_lead(seeded: Engine) -> None:
    with seeded.context(write=False) as ctx:
        task = task_by_ref(ctx, "skhcn-57-2025", "I.1")  # lead Văn phòng Sở, "Các phòng đơn vị"
        assert lead_codes(task) == ["VPS"]
        assert cooperating_codes(task) == ["QLKHCN", "QLTDC", "TTKD"]
        task = task_by_ref(ctx, "laichau-1969", "IV.8")  # a unit whose name holds a comma
        assert lead_codes(task) == ["BAOLC"]
        assert cooperating_codes(task) == ["SKHCN", "SVHTTDL"]


def test_indicators_horizons_and_targets(seeded: Engine) -> None:
    with seeded.context(write=False) as ctx:
        indicators = ctx.session.scalars(
            sa.select(Indicator)
            .join(Plan)
            .where(Plan.code == "skhcn-57-2025")
            .order_by(Indicator.position)
        ).all()
        assert len(indicators) == 8
        assert [i.horizon_year for i in indicators] == [2030] * 6 + [2045] * 2
        by_ref = {i.ref: i for i in indicators}
        assert sorted(by_ref) == ["I.1", "I.2", "I.3", "I.4", "I.5", "I.6", "II.1", "II.2"]
        targets = {ref: (i.comparator, i.target_value) for ref, i in by_ref.items()}
        assert targets["I.3"] == ("≥", Decimal("40"))
        assert targets["I.4"] == (">", Decimal("0.623"))
        assert targets["I.5"] == (None, Decimal("10"))
        assert targets["I.6"] == ("≤", Decimal("57"))
        assert targets["II.2"] == ("≤", Decimal("55"))
        # A target in words is kept as written, with no number invented for it.
        assert targets["I.1"] == (None, None)
        assert by_ref["I.1"].target_text.startswith("Đạt mức trung bình")
        assert by_ref["I.4"].target_text == "> 0,623"
        assert by_ref["I.4"].measure == "Chỉ số phát triển con người (HDI)"
        assert [u.code for u in by_ref["I.6"].units("lead")] == ["QLKHCN"]
        assert [u.code for u in by_ref["I.6"].units("cooperating")] == ["VPS", "QLTDC", "TTKD"]


def test_vinhtuy_indicators_keep_codes_and_central_agency(seeded: Engine) -> None:
    with seeded.context(write=False) as ctx:
        indicators = ctx.session.scalars(
            sa.select(Indicator)
            .join(Plan)
            .where(Plan.code == "vinhtuy-2244")
            .order_by(Indicator.position)
        ).all()
        assert [i.code for i in indicators] == ["0407", "0408", "0409", "0410", "0411", "0412"]
        assert [i.number for i in indicators] == ["01", "02", "03", "04", "05", "06"]
        assert indicators[0].central_agency == (
            "Bộ Khoa học và Công nghệ/Ủy ban nhân dân Thành phố/Sở Khoa học và Công nghệ"
        )
        assert indicators[3].central_agency == (
            "Bộ Khoa học và Công nghệ/Các bộ, cơ quan ngang bộ; "
            "Ủy ban nhân dân Thành phố/Sở Khoa học và Công nghệ"
        )
        assert all(i.horizon_year is None and i.target_value is None for i in indicators)
        assert all([u.code for u in i.units("lead")] == ["VHXH"] for i in indicators)
        # The ward's own group phrases: its offices, and for 0409 the schools as well.
        assert [u.code for u in indicators[0].units("cooperating")] == ["VTVP", "VTKTHT", "VTTTVH"]
        assert [u.code for u in indicators[2].units("cooperating")] == [
            "VTVP",
            "VTKTHT",
            "VTTTVH",
            "VTTH",
            "VTTHCS",
        ]


def test_plan_546_supersedes_160(seeded: Engine) -> None:
    with seeded.context(write=False) as ctx:
        new = ctx.session.scalar(sa.select(Plan).where(Plan.code == "vpubnd-546"))
        old = ctx.session.scalar(sa.select(Plan).where(Plan.code == "vpubnd-160"))
        assert new.supersedes is old
        assert old.status == "superseded"
        assert new.status == "active"
        assert new.issued_on == date(2025, 6, 4)
        assert old.issued_on == date(2025, 2, 27)
        assert new.issuer.code == old.issuer.code == "VPUBND"


@pytest.mark.parametrize(
    ("plan", "ref", "raw", "kind", "expected"),
    [
        ("skhcn-57-2025", "I.1", "3/2025", "fixed", {"timing_deadline": date(2025, 3, 31)}),
        ("skhcn-57-2025", "I.2", "02/2025", "fixed", {"timing_deadline": date(2025, 2, 28)}),
        ("skhcn-57-2025", "I.3", "Thường xuyên", "ongoing", {"timing_deadline": None}),
        ("skhcn-57-2025", "I.8", "Nhiệm vụ thường xuyên", "ongoing", {}),
        ("skhcn-57-2025", "I.9", "Hàng năm", "recurring", {"timing_frequency": "annual"}),
        (
            "skhcn-57-2025",
            "I.5",
            "Sau khi có văn bản hướng dẫn của Trung ương",
            "conditional",
            {"timing_trigger": "Trung ương", "timing_deadline": None},
        ),
        (
            "skhcn-57-2025",
            "I.6",
            "Sau khi có hướng dẫn của UBND tỉnh",
            "conditional",
            {"timing_trigger": "UBND tỉnh"},
        ),
        ("skhcn-57-2025", "II.2", "2025", "fixed", {"timing_deadline": date(2025, 12, 31)}),
        (
            "laichau-2244",
            "IV.3",
            "Trước ngày 12 tháng 4 hằng năm",
            "recurring",
            {"timing_frequency": "annual", "timing_anchor_day": 12, "timing_anchor_month": 4},
        ),
        ("laichau-2244", "IV.1", "", "unknown", {"timing_deadline": None}),
        ("vinhtuy-2244", "III.2", "Hằng năm", "recurring", {"timing_frequency": "annual"}),
        (
            "vpubnd-546",
            "VI.1",
            "Trước ngày 15 hàng tháng, quý, 06 tháng, năm",
            "recurring",
            {"timing_frequency": "monthly", "timing_anchor_day": 15},
        ),
    ],
)
def test_timing_raw_text_and_reading_are_both_kept(
    seeded: Engine, plan: str, ref: str, raw: str, kind: str, expected: dict
) -> None:
    with seeded.context(write=False) as ctx:
        task = task_by_ref(ctx, plan, ref)
        assert task.timing_raw == raw
        assert task.timing_kind == kind
        for column, value in expected.items():
            assert getattr(task, column) == value, column
        assert task.needs_review == (kind == "unknown")


def test_three_drafts_sharing_a_number_are_three_plans(seeded: Engine) -> None:
    with seeded.context(write=False) as ctx:
        drafts = ctx.session.scalars(
            sa.select(Plan).where(Plan.number == "…/KH-UBND").order_by(Plan.code)
        ).all()
        assert [p.code for p in drafts] == ["laichau-1969", "laichau-2244", "vinhtuy-2244"]
        assert [len(p.tasks) for p in drafts] == [8, 7, 3]
        assert [p.issuer.code for p in drafts] == ["LAICHAU", "LAICHAU", "VINHTUY"]


def test_a_shared_draft_number_cannot_name_the_plan_of_a_bare_table(
    seeded: Engine, tmp_path: Path
) -> None:
    table = write_csv(
        tmp_path / "extra.csv", [TASK_HEADER, ["1", "Việc mới", "Sở Tư pháp", "", ""]]
    )
    with pytest.raises(InvalidInput) as excinfo:
        import_file(seeded, table, plan="…/KH-UBND")
    message = str(excinfo.value)
    assert "laichau-1969" in message and "laichau-2244" in message and "vinhtuy-2244" in message
    assert count(seeded, Task) == 61


def test_a_complete_number_belongs_to_one_plan(seeded: Engine, tmp_path: Path) -> None:
    manifest = write_plan(tmp_path, GOOD_ROWS, code="ban-sao", number="546/KH-VPUBND")
    with pytest.raises(ImportFailed) as excinfo:
        import_file(seeded, manifest)
    assert any(
        "plan.toml" in p and "546/KH-VPUBND" in p and "vpubnd-546" in p
        for p in excinfo.value.problems
    )
    assert count(seeded, Plan) == 6


def test_importing_needs_the_office(organisation: Engine) -> None:
    with pytest.raises(PermissionDenied):
        import_file(organisation, MANIFESTS[0], actor="qlkhcn.head")
    assert count(organisation, Plan) == 0


# --- re-importing ---------------------------------------------------------------------------


def test_reimporting_the_seeds_changes_nothing(seeded: Engine) -> None:
    for code in ("skhcn-57-2025", "laichau-2244", "laichau-1969", "vinhtuy-2244", "vpubnd-546"):
        start(seeded, code)
    with seeded.context(write=False) as ctx:
        tasks = dict(ctx.session.execute(sa.select(Task.id, Task.version)).all())
        indicators = set(ctx.session.scalars(sa.select(Indicator.id)))
    events = count(seeded, TaskEvent)
    due = due_snapshot(seeded)

    for manifest in MANIFESTS:
        result = import_file(seeded, manifest)
        assert result["created"] == result["updated"] == 0, (manifest.name, result)
        assert result["superseded"] == []

    with seeded.context(write=False) as ctx:
        assert dict(ctx.session.execute(sa.select(Task.id, Task.version)).all()) == tasks
        assert set(ctx.session.scalars(sa.select(Indicator.id))) == indicators
    assert count(seeded, TaskEvent) == events
    assert due_snapshot(seeded) == due
    assert count(seeded, Plan) == 6


def test_reimporting_the_same_manifest_reports_every_task_unchanged(
    organisation: Engine,
) -> None:
    manifest = SEEDS / "01-skhcn-57-2025.toml"
    first = import_file(organisation, manifest)
    with organisation.context(write=False) as ctx:
        ids = sorted(ctx.session.scalars(sa.select(Task.id)))
    events = count(organisation, TaskEvent)

    again = import_file(organisation, manifest)

    assert first["created"] == 21
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 21)
    assert again["indicators"] == 8
    with organisation.context(write=False) as ctx:
        assert sorted(ctx.session.scalars(sa.select(Task.id))) == ids
    assert count(organisation, TaskEvent) == events
    assert count(organisation, Indicator) == 8
    assert count(organisation, Section) == 9  # 7 task sections, 2 indicator sections


def copy_seed(folder: Path, stem: str) -> Path:
    for path in SEEDS.glob(f"{stem}*"):
        shutil.copy(path, folder / path.name)
    return folder / f"{stem}.toml"


def edit_csv(path: Path, ref_number: str, section_row: str, column: str, value: str) -> None:
    """Change one cell of the task numbered ``ref_number`` in section ``section_row``."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, section = rows[0], None
    index = header.index(column)
    for row in rows[1:]:
        if row[2] == "" and row[0].rstrip(".") and not row[0][0].isdigit():
            section = row[0].rstrip(".")
        elif section == section_row and row[0] == ref_number:
            row[index] = value
            break
    else:
        raise AssertionError(f"no task {section_row}.{ref_number}")
    write_csv(path, rows)


def test_reimport_with_one_timing_changed_moves_its_deadline(
    organisation: Engine, tmp_path: Path
) -> None:
    manifest = copy_seed(tmp_path, "01-skhcn-57-2025")
    import_file(organisation, manifest)
    start(organisation, "skhcn-57-2025")
    with organisation.context(write=False) as ctx:
        task = task_by_ref(ctx, "skhcn-57-2025", "I.1")
        task_id = task.id
        (deadline,) = [d for d in task.due_items if d.kind == "deadline"]
        deadline_id, sequence = deadline.id, deadline.sequence
        assert deadline.due_date == date(2025, 3, 31)
    events = count(organisation, TaskEvent)
    due_before = due_snapshot(organisation)

    edit_csv(tmp_path / "01-skhcn-57-2025-tasks.csv", "1", "I", "Thời gian hoàn thành", "30/6/2026")
    result = import_file(organisation, manifest)

    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 20)
    assert count(organisation, TaskEvent) == events + 1
    with organisation.context(write=False) as ctx:
        event = ctx.session.scalars(sa.select(TaskEvent).order_by(TaskEvent.id.desc())).first()
        assert (event.task_id, event.action) == (task_id, "reimported")
        assert event.actor.username == "admin"
        task = task_by_ref(ctx, "skhcn-57-2025", "I.1")
        assert task.status == "in_progress"
        assert (task.timing_raw, task.timing_kind) == ("30/6/2026", "fixed")
        assert task.timing_deadline == date(2026, 6, 30)
        (moved,) = [d for d in task.due_items if d.kind == "deadline"]
        assert moved.id == deadline_id
        assert moved.sequence > sequence
        assert moved.due_date == moved.nominal_date == date(2026, 6, 30)
        assert moved.status == "open"
    due_after = due_snapshot(organisation)
    assert set(due_after) == set(due_before)
    assert {k: v for k, v in due_after.items() if k != deadline_id} == {
        k: v for k, v in due_before.items() if k != deadline_id
    }


# --- all or nothing -------------------------------------------------------------------------

BAD_FILES = {
    "unknown unit": (
        {"rows": with_row(2, ["2", "Tuyên truyền", "Phòng Không Có", "", "Thường xuyên"])},
        "tasks.csv row 4, column 'Đơn vị chủ trì': unknown unit 'Phòng Không Có'",
    ),
    "unknown cooperating unit": (
        {"rows": with_row(2, ["2", "Tuyên truyền", "Văn phòng Sở", "Phòng Ma", "Thường xuyên"])},
        "tasks.csv row 4, column 'Đơn vị phối hợp': unknown unit 'Phòng Ma'",
    ),
    "empty lead": (
        {"rows": with_row(2, ["2", "Tuyên truyền", "", "", "Thường xuyên"])},
        "tasks.csv row 4, column 'Đơn vị chủ trì': empty",
    ),
    "empty STT": (
        {"rows": with_row(2, ["", "Tuyên truyền", "Văn phòng Sở", "", "Thường xuyên"])},
        "tasks.csv row 4, column 'STT': empty",
    ),
    "STT neither number nor roman": (
        {"rows": with_row(2, ["a)", "Tuyên truyền", "Văn phòng Sở", "", "Thường xuyên"])},
        "tasks.csv row 4, column 'STT': 'a)' is neither a number nor a roman section",
    ),
    "duplicate ref": (
        {"rows": with_row(2, ["1", "Tuyên truyền", "Văn phòng Sở", "", "Thường xuyên"])},
        "tasks.csv row 4, column 'STT': task I.1 repeats row 3",
    ),
    "empty name": (
        {"rows": with_row(2, ["2", "", "Văn phòng Sở", "", "Thường xuyên"])},
        "tasks.csv row 4, column 'Tên nhiệm vụ': empty",
    ),
    "missing required column": (
        {
            "header": ["STT", "Tên nhiệm vụ", "Đơn vị phối hợp", "Thời gian hoàn thành"],
            "rows": [[r[0], r[1], r[3], r[4]] for r in GOOD_ROWS],
        },
        "tasks.csv: column 'Đơn vị chủ trì' is missing",
    ),
    "bad issued_on": (
        {"rows": GOOD_ROWS, "extra": 'issued_on = "2025-02-30"\n'},
        "plan.toml [plan]: issued_on '2025-02-30' is not a date",
    ),
    "bad reporting regime": (
        {"rows": GOOD_ROWS, "extra": 'reporting_regime = "weekly:3"\n'},
        "plan.toml [plan]: reporting regime entry 'weekly:3'",
    ),
    "supersedes an unknown plan": (
        {"rows": GOOD_ROWS, "extra": 'supersedes = "999/KH-VPUBND"\n'},
        "plan.toml [plan]: supersedes: plan '999/KH-VPUBND' does not exist",
    ),
    "unknown issuer": (
        {"rows": GOOD_ROWS, "issuer": "Sở Không Có"},
        "plan.toml [plan]: issuer: unknown unit 'Sở Không Có'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_file_is_refused_whole(organisation: Engine, tmp_path: Path, case: str) -> None:
    arguments, problem = BAD_FILES[case]
    manifest = write_plan(tmp_path, **arguments)
    with pytest.raises(ImportFailed) as excinfo:
        import_file(organisation, manifest)
    problems = excinfo.value.problems
    assert any(p.startswith(problem) for p in problems), problems
    assert excinfo.value.source == "plan.toml"
    assert problem in str(excinfo.value)  # the message shown to the user lists the problem
    assert count(organisation, Plan) == 0
    assert count(organisation, Task) == 0
    assert count(organisation, TaskEvent) == 0


def test_every_problem_of_a_file_is_reported_at_once(organisation: Engine, tmp_path: Path) -> None:
    rows = [
        ["I.", "Nội dung thực hiện", "", "", ""],
        ["1", "Việc một", "Phòng Không Có", "", "3/2025"],  # row 3
        ["", "Việc hai", "Văn phòng Sở", "", "2025"],  # row 4
        ["1", "Việc ba", "Văn phòng Sở", "", "2025"],  # row 5
        ["2", "Việc bốn", "Văn phòng Sở", "", "2025"],  # row 6: fine
    ]
    manifest = write_plan(tmp_path, rows, extra='issued_on = "04/6/2025"\n')
    with pytest.raises(ImportFailed) as excinfo:
        import_file(organisation, manifest)
    text = "\n".join(excinfo.value.problems)
    assert "tasks.csv row 3, column 'Đơn vị chủ trì': unknown unit 'Phòng Không Có'" in text
    assert "tasks.csv row 4, column 'STT': empty" in text
    assert "tasks.csv row 5, column 'STT': task I.1 repeats row 3" in text
    assert "plan.toml [plan]: issued_on '04/6/2025'" in text
    assert len(excinfo.value.problems) == 4
    assert "4 problems, nothing imported" in str(excinfo.value)
    assert count(organisation, Plan) == 0
    assert count(organisation, Task) == 0


def test_a_refused_reimport_leaves_the_plan_as_it_was(organisation: Engine, tmp_path: Path) -> None:
    manifest = write_plan(tmp_path, GOOD_ROWS)
    import_file(organisation, manifest)
    events = count(organisation, TaskEvent)
    rows = with_row(1, ["1", "Xây dựng kế hoạch triển khai", "Văn phòng Sở", "", "30/6/2026"])
    rows.append(["4", "Việc mới", "Phòng Không Có", "", "2026"])
    write_plan(tmp_path, rows)

    with pytest.raises(ImportFailed):
        import_file(organisation, manifest)

    assert count(organisation, Task) == 3
    assert count(organisation, TaskEvent) == events
    with organisation.context(write=False) as ctx:
        task = task_by_ref(ctx, "thu-nghiem", "I.1")
        assert task.timing_raw == "3/2025"
        assert cooperating_codes(task) == ["QLKHCN", "QLTDC", "TTKD"]
        assert ctx.session.scalar(sa.select(Unit).where(Unit.name == "Phòng Không Có")) is None


def test_create_units_adds_the_unknown_unit_under_the_issuer(
    organisation: Engine, tmp_path: Path
) -> None:
    rows = [
        *GOOD_ROWS,
        ["4", "Thí điểm sàn giao dịch công nghệ", "Phòng Đổi mới Sáng tạo", "", "2026"],
        ["5", "Đánh giá thí điểm", "Văn phòng Sở", "Phòng Đổi mới Sáng tạo", "2026"],
    ]
    manifest = write_plan(tmp_path, rows)
    with pytest.raises(ImportFailed) as excinfo:
        import_file(organisation, manifest)
    assert "--create-units" in "\n".join(excinfo.value.problems)
    units = count(organisation, Unit)

    result = import_file(organisation, manifest, create_units=True)

    assert result["created"] == 5
    assert count(organisation, Unit) == units + 1
    with organisation.context(write=False) as ctx:
        unit = ctx.session.scalar(sa.select(Unit).where(Unit.name == "Phòng Đổi mới Sáng tạo"))
        assert unit is not None
        assert unit.parent.code == "SKHCN"
        assert unit.active
        assert lead_codes(task_by_ref(ctx, "thu-nghiem", "I.4")) == [unit.code]
        assert cooperating_codes(task_by_ref(ctx, "thu-nghiem", "I.5")) == [unit.code]
    # Known from now on: a plain import finds it.
    again = import_file(organisation, manifest)
    assert again["unchanged"] == 5
    assert count(organisation, Unit) == units + 1


def test_unreadable_timing_is_imported_flagged_and_owes_no_deadline(
    make_plan, organisation: Engine, tmp_path: Path
) -> None:
    rows = [
        *GOOD_ROWS,
        ["4", "Hoàn thiện quy chế", "Văn phòng Sở", "", "Trước tháng 6/2026"],  # row 6
        ["5", "Rà soát quy trình", "Văn phòng Sở", "", ""],  # row 7
    ]
    manifest = write_plan(tmp_path, rows)
    result = import_file(organisation, manifest)
    assert result["created"] == 5
    warnings = "\n".join(result["warnings"])
    assert "tasks.csv row 6" in warnings and "'Trước tháng 6/2026'" in warnings
    assert "I.4" in warnings
    assert "tasks.csv row 7" in warnings and "I.5" in warnings
    assert len(result["warnings"]) == 2

    start(organisation, "thu-nghiem")
    with organisation.context(write=False) as ctx:
        for ref, raw in (("I.4", "Trước tháng 6/2026"), ("I.5", "")):
            task = task_by_ref(ctx, "thu-nghiem", ref)
            assert (task.timing_kind, task.timing_raw) == ("unknown", raw)
            assert task.needs_review
            assert task.timing_deadline is None
            assert task.status == "in_progress"
            assert [d for d in task.due_items if d.kind == "deadline"] == []
        # A readable one next to it does get its deadline.
        task = task_by_ref(ctx, "thu-nghiem", "I.1")
        assert [d.due_date for d in task.due_items if d.kind == "deadline"] == [date(2025, 3, 31)]


# --- reading CSV ----------------------------------------------------------------------------


def test_csv_with_byte_order_mark(organisation: Engine, tmp_path: Path) -> None:
    manifest = write_plan(tmp_path, GOOD_ROWS)
    write_csv(tmp_path / "tasks.csv", [TASK_HEADER, *GOOD_ROWS], bom=True)
    assert (tmp_path / "tasks.csv").read_bytes().startswith(b"\xef\xbb\xbfSTT")
    table = read_source(tmp_path / "tasks.csv")
    assert isinstance(table, Table)
    assert table.header[0] == "STT"
    result = import_file(organisation, manifest)
    assert result["created"] == 3


def test_csv_with_semicolons(organisation: Engine, tmp_path: Path) -> None:
    manifest = write_plan(tmp_path, GOOD_ROWS)
    write_csv(tmp_path / "tasks.csv", [TASK_HEADER, *GOOD_ROWS], delimiter=";")
    assert "STT;Tên nhiệm vụ;" in (tmp_path / "tasks.csv").read_text(encoding="utf-8")
    result = import_file(organisation, manifest)
    assert result["created"] == 3
    with organisation.context(write=False) as ctx:
        task = task_by_ref(ctx, "thu-nghiem", "I.2")
        assert task.name == "Tuyên truyền, phổ biến"  # the comma inside a cell stays
        assert lead_codes(task) == ["QLKHCN"]


def test_csv_quoted_cells_with_quotes_and_line_breaks(organisation: Engine, tmp_path: Path) -> None:
    rows = [
        *GOOD_ROWS,
        [
            "4",
            'Hưởng ứng cuộc thi "Công dân số thông minh",\ntổ chức tại các đơn vị',
            "Phòng Quản lý\nTiêu chuẩn Đo lường Chất lượng",
            "Văn phòng Sở;\nPhòng Quản lý KHCN",
            "Thường\nxuyên",
        ],
    ]
    manifest = write_plan(tmp_path, rows)
    text = (tmp_path / "tasks.csv").read_text(encoding="utf-8")
    assert '""Công dân số thông minh""' in text  # RFC 4180 doubled quotes
    result = import_file(organisation, manifest)
    assert result["created"] == 4
    assert result["warnings"] == []
    with organisation.context(write=False) as ctx:
        task = task_by_ref(ctx, "thu-nghiem", "I.4")
        assert task.name == 'Hưởng ứng cuộc thi "Công dân số thông minh", tổ chức tại các đơn vị'
        assert lead_codes(task) == ["QLTDC"]
        assert cooperating_codes(task) == ["VPS", "QLKHCN"]
        assert (task.timing_kind, task.timing_raw) == ("ongoing", "Thường xuyên")


def test_products_listed_one_per_line_keep_their_lines(seeded: Engine) -> None:
    """The seeds put each product of a task on a line of its own inside the cell."""
    with seeded.context(write=False) as ctx:
        task = task_by_ref(ctx, "vinhtuy-2244", "III.2")
        lines = task.outputs.splitlines()
        assert len(lines) == 3
        assert lines[0].startswith("Thông tin, dữ liệu, kết quả điều tra thống kê")
        assert lines[2].startswith("Định kỳ hằng năm")


def test_csv_not_in_utf8_is_refused_naming_the_file(organisation: Engine, tmp_path: Path) -> None:
    manifest = write_plan(tmp_path, GOOD_ROWS)
    legacy = "STT,Tên nhiệm vụ,Đơn vị chủ trì,Đơn vị phối hợp,Thời gian hoàn thành\n".encode()
    legacy = legacy.replace("Tên nhiệm vụ".encode(), b"Ten nhiem vu")
    # "Văn phòng" as Excel writes it in the Vietnamese code page (Windows-1258).
    legacy += b"1,Xay dung ke hoach,V\xe3n pho\xccng S\xf5\xd2,,2025\n"
    (tmp_path / "tasks.csv").write_bytes(legacy)

    with pytest.raises(InvalidInput) as excinfo:
        read_source(tmp_path / "tasks.csv")
    assert "tasks.csv" in str(excinfo.value)
    assert "UTF-8" in str(excinfo.value)

    with pytest.raises(InvalidInput) as excinfo:
        import_file(organisation, manifest)
    assert "tasks.csv" in str(excinfo.value)
    assert count(organisation, Plan) == 0


def test_manifest_naming_a_missing_table(organisation: Engine, tmp_path: Path) -> None:
    manifest = write_plan(tmp_path, GOOD_ROWS)
    (tmp_path / "tasks.csv").unlink()
    with pytest.raises(InvalidInput) as excinfo:
        import_file(organisation, manifest)
    assert "tasks.csv" in str(excinfo.value)
    assert count(organisation, Plan) == 0


# --- reading XLSX ---------------------------------------------------------------------------


def build_workbook(path: Path, *, plan_sheet: bool = True) -> Path:
    workbook = Workbook()
    tasks = workbook.active
    tasks.title = "Nhiệm vụ"
    tasks.append(HEADER_WITH_OUTPUTS)
    tasks.append(["I", "Nội dung thực hiện", None, None, None, None])
    tasks.append(
        [1, "Xây dựng kế hoạch", "Văn phòng Sở", "Phòng Quản lý KHCN", "Quý II/2026", None]
    )
    tasks.append(
        [
            2,
            "Kết nối mạng lưới đổi mới sáng tạo",
            "Trung tâm Kiểm định và Phát triển KH&CN",
            None,
            "Thường xuyên",
            "Báo cáo kết quả kết nối",
        ]
    )
    tasks.append(["II", "Tổ chức thực hiện", None, None, None, None])
    tasks.append([1, "Theo dõi, đôn đốc", "Văn phòng", "Các phòng, đơn vị", "Hằng quý", None])
    if plan_sheet:
        meta = workbook.create_sheet("Kế hoạch", 0)
        for row in [
            ("Mã", "xlsx-2026"),
            ("Số ký hiệu", "15/KH-SKHCN"),
            ("Trích yếu", "Kế hoạch nhập từ bảng tính"),
            ("Cơ quan ban hành", "Sở KH&CN"),
            ("Ngày ban hành", datetime(2026, 3, 2)),
            ("Chế độ báo cáo", "annual:15/04"),
            ("Thực hiện", "Nghị quyết số 57-NQ/TW\nNghị quyết số 03/NQ-CP"),
        ]:
            meta.append(row)
        indicators = workbook.create_sheet("Chỉ tiêu")
        indicators.append(
            ["STT", "Mã số", "Tên chỉ tiêu", "Đơn vị tính", "Mục tiêu", "Năm", "Đơn vị chủ trì"]
        )
        indicators.append(
            [1, "0407", "Tỷ lệ doanh nghiệp đổi mới sáng tạo", "%", "≥ 40", 2030, "Văn phòng Sở"]
        )
        indicators.append([2, None, "Chỉ số PII", "Điểm", 12.5, 2030, "Phòng Quản lý KH&CN"])
    workbook.save(path)
    return path


def test_xlsx_workbook_with_plan_tasks_and_indicators(organisation: Engine, tmp_path: Path) -> None:
    path = build_workbook(tmp_path / "ke-hoach.xlsx")
    source = read_source(path)
    assert isinstance(source, PlanSource)
    result = import_file(organisation, path)
    assert (result["code"], result["created"], result["indicators"]) == ("xlsx-2026", 3, 2)
    assert result["warnings"] == []
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "xlsx-2026"))
        assert plan.number == "15/KH-SKHCN"
        assert plan.title == "Kế hoạch nhập từ bảng tính"
        assert plan.issuer.code == "SKHCN"
        assert plan.issued_on == date(2026, 3, 2)
        assert plan.reporting_regime == "annual:15/04"
        assert plan.implements == ["Nghị quyết số 57-NQ/TW", "Nghị quyết số 03/NQ-CP"]

        task = task_by_ref(ctx, "xlsx-2026", "I.1")
        assert (task.timing_kind, task.timing_deadline) == ("fixed", date(2026, 6, 30))
        assert lead_codes(task) == ["VPS"] and cooperating_codes(task) == ["QLKHCN"]
        task = task_by_ref(ctx, "xlsx-2026", "I.2")
        assert task.timing_kind == "ongoing"
        assert task.outputs == "Báo cáo kết quả kết nối"
        assert lead_codes(task) == ["TTKD"]
        task = task_by_ref(ctx, "xlsx-2026", "II.1")
        assert (task.timing_kind, task.timing_frequency) == ("recurring", "quarterly")
        assert lead_codes(task) == ["VPS"]
        assert cooperating_codes(task) == ["QLKHCN", "QLTDC", "TTKD"]

        indicators = {i.ref: i for i in plan.indicators}
        assert indicators["1"].code == "0407"
        assert (indicators["1"].comparator, indicators["1"].target_value) == ("≥", Decimal("40"))
        assert indicators["1"].horizon_year == 2030
        assert indicators["2"].code is None
        assert indicators["2"].target_value == Decimal("12.5")
        assert [u.code for u in indicators["2"].units("lead")] == ["QLKHCN"]

    again = import_file(organisation, path)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_xlsx_bare_tasks_sheet_into_an_existing_plan(organisation: Engine, tmp_path: Path) -> None:
    import_file(organisation, write_plan(tmp_path, GOOD_ROWS, code="co-san"))
    path = build_workbook(tmp_path / "nhiem-vu.xlsx", plan_sheet=False)
    assert isinstance(read_source(path), Table)
    result = import_file(organisation, path, plan="co-san")
    # I.1 is replaced by the sheet's, I.2 is the sheet's, II.1 new; I.3 left as it was.
    assert (result["created"], result["updated"]) == (1, 2)
    assert any("I.3" in w for w in result["warnings"])
    assert count(organisation, Task) == 4


def test_damaged_xlsx_is_refused(organisation: Engine, tmp_path: Path) -> None:
    damaged = tmp_path / "hong.xlsx"
    damaged.write_bytes(bytes(range(256)) * 16)
    with pytest.raises(InvalidInput) as excinfo:
        read_source(damaged)
    assert "hong.xlsx" in str(excinfo.value)

    # Named by a manifest, it refuses the whole plan.
    manifest = write_plan(tmp_path, GOOD_ROWS)
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("tasks.csv", "hong.xlsx"), encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as excinfo:
        import_file(organisation, manifest)
    assert "hong.xlsx" in str(excinfo.value)
    assert count(organisation, Plan) == 0
    assert count(organisation, Task) == 0


# --- a bare table into an existing plan -----------------------------------------------------


def test_bare_tasks_csv_into_an_existing_plan(organisation: Engine, tmp_path: Path) -> None:
    manifest = write_plan(
        tmp_path,
        GOOD_ROWS,
        extra='issued_on = "2026-03-02"\nissued_text = "ngày 02 tháng 3 năm 2026"\n'
        'reporting_regime = "annual:15/04"\nimplements = ["Nghị quyết số 57-NQ/TW"]\n',
    )
    import_file(organisation, manifest)
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "thu-nghiem"))
        columns = (
            "number",
            "title",
            "issuer_unit_id",
            "issuer_text",
            "issued_on",
            "issued_text",
            "implements",
            "reporting_regime",
            "reporting_regime_text",
            "source",
            "status",
        )
        before = {c: getattr(plan, c) for c in columns}

    table = write_csv(
        tmp_path / "bo-sung.csv",
        [
            HEADER_WITH_OUTPUTS,
            ["I.", "Nội dung thực hiện", "", "", "", ""],
            ["4", "Số hóa hồ sơ lưu trữ", "Văn phòng Sở", "", "Quý IV/2026", "Kho dữ liệu số"],
        ],
    )
    with organisation.context() as ctx:
        source = read_source(table)
        assert isinstance(source, Table)
        result = import_plan(
            ctx, user(ctx, "admin"), plan_source_for_table(ctx, "thu-nghiem", source)
        )
        assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
        assert result.plan.code == "thu-nghiem"

    assert count(organisation, Plan) == 1
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "thu-nghiem"))
        assert [t.ref for t in plan.tasks if t.ref == "I.4"] == ["I.4"]
        assert {t.ref for t in plan.tasks} == {"I.1", "I.2", "I.3", "I.4"}
        task = task_by_ref(ctx, "thu-nghiem", "I.4")
        assert task.timing_deadline == date(2026, 12, 31)
        assert task.outputs == "Kho dữ liệu số"
        assert task.section.number == "I"
        # The plan itself is as its manifest said.
        assert {c: getattr(plan, c) for c in columns} == before


def test_bare_table_with_a_new_section(organisation: Engine, tmp_path: Path) -> None:
    import_file(organisation, write_plan(tmp_path, GOOD_ROWS))
    table = write_csv(
        tmp_path / "muc-ii.csv",
        [
            TASK_HEADER,
            ["II.", "Tổ chức thực hiện", "", "", ""],
            ["1", "Theo dõi, đôn đốc thực hiện", "Văn phòng Sở", "", "Hằng quý"],
            ["2", "Sơ kết, đánh giá", "Văn phòng Sở", "", "2026"],
        ],
    )
    result = import_file(organisation, table, plan="thu-nghiem")
    assert result["created"] == 2
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "thu-nghiem"))
        assert [s.number for s in plan.sections] == ["I", "II"]
        assert task_by_ref(ctx, "thu-nghiem", "II.2").section.title == "Tổ chức thực hiện"


def test_bare_table_for_an_unknown_plan(organisation: Engine, tmp_path: Path) -> None:
    table = write_csv(tmp_path / "le.csv", [TASK_HEADER, ["1", "Việc", "Văn phòng Sở", "", ""]])
    with pytest.raises(NotFound) as excinfo:
        import_file(organisation, table, plan="khong-co")
    assert "khong-co" in str(excinfo.value)
    assert count(organisation, Task) == 0


# --- re-import rules: matching, lifecycle, plan changes, strict keys -------------------------------


def _reimport(engine: Engine, rows: list[list[str]], **fields: str) -> None:
    from workflow.importer import PlanSource, Table, import_plan

    plan_fields = {
        "code": "test-plan",
        "number": "1/KH-SKHCN",
        "title": "Kế hoạch thử nghiệm",
        "issuer": "SKHCN",
        **fields,
    }
    table = Table("tasks.csv", TASK_HEADER, [(i + 2, r) for i, r in enumerate(rows)])
    with engine.context() as ctx:
        import_plan(ctx, user(ctx, "vps.office"), PlanSource("plan.toml", plan_fields, tasks=table))


def _history(engine: Engine) -> int:
    return count(engine, TaskEvent)


def test_a_renumbered_file_is_refused_instead_of_moving_history(make_plan, engine: Engine) -> None:
    make_plan(
        [
            ["1", "Việc A", "Văn phòng Sở", "", "6/2027"],
            ["2", "Việc B", "Văn phòng Sở", "", "9/2027"],
        ]
    )
    before = _history(engine)
    inserted = [
        ["1", "Việc A", "Văn phòng Sở", "", "6/2027"],
        ["2", "Việc X", "Văn phòng Sở", "", "7/2027"],
        ["3", "Việc B", "Văn phòng Sở", "", "9/2027"],
    ]
    with pytest.raises(ImportFailed) as refused:
        _reimport(engine, inserted)
    assert any("row 4, column 'STT'" in p and "renumbered" in p for p in refused.value.problems)
    assert _history(engine) == before
    with engine.context() as ctx:
        assert task_by_ref(ctx, "test-plan", "2").name == "Việc B"


def test_a_new_task_added_at_the_end_and_a_corrected_name_are_taken(
    make_plan, engine: Engine
) -> None:
    make_plan([["1", "Việc A", "Văn phòng Sở", "", "6/2027"]])
    _reimport(
        engine,
        [
            ["1", "Việc A (sửa chính tả)", "Văn phòng Sở", "", "6/2027"],
            ["2", "Việc mới", "Văn phòng Sở", "", "9/2027"],
        ],
    )
    with engine.context() as ctx:
        assert task_by_ref(ctx, "test-plan", "1").name == "Việc A (sửa chính tả)"
        assert task_by_ref(ctx, "test-plan", "2").status == "draft"


def test_reimport_cannot_take_a_waiting_task_out_of_waiting(make_plan, engine: Engine) -> None:
    make_plan([["1", "Việc chờ", "Văn phòng Sở", "", "Sau khi có hướng dẫn của Trung ương"]])
    with pytest.raises(ImportFailed) as refused:
        _reimport(engine, [["1", "Việc chờ", "Văn phòng Sở", "", "6/2027"]])
    assert any(
        "row 2, column 'Thời gian hoàn thành'" in p and "record its trigger document" in p
        for p in refused.value.problems
    )


def test_a_new_reporting_regime_moves_what_started_tasks_owe(make_plan, engine: Engine) -> None:
    make_plan([["1", "Việc thường xuyên", "Văn phòng Sở", "", "Thường xuyên"]])
    _reimport(
        engine,
        [["1", "Việc thường xuyên", "Văn phòng Sở", "", "Thường xuyên"]],
        reporting_regime="annual:12/04",
    )
    with engine.context() as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        open_reports = ctx.session.scalars(
            sa.select(DueItem.period_key).where(
                DueItem.task_id == task.id, DueItem.status == "open"
            )
        ).all()
        assert sorted(open_reports) == ["2027"]  # 12/04/2027, within the 15-month horizon
        event = ctx.session.scalars(
            sa.select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id.desc())
        ).first()
        assert event.action == "plan_changed"
        assert event.changes["reporting_regime"][1] == "annual:12/04"


def test_a_superseded_plan_takes_no_new_tasks_and_cannot_be_started(
    make_plan, engine: Engine
) -> None:
    make_plan([["1", "Việc cũ", "Văn phòng Sở", "", "6/2027"]], code="old", number="160/KH-SKHCN")
    make_plan(
        [["1", "Việc cũ", "Văn phòng Sở", "", "6/2027"]],
        code="new",
        number="546/KH-SKHCN",
        supersedes="old",
    )
    with pytest.raises(ImportFailed, match="superseded and takes no new tasks") as refused:
        _reimport(
            engine,
            [
                ["1", "Việc cũ", "Văn phòng Sở", "", "6/2027"],
                ["2", "Việc thêm", "Văn phòng Sở", "", "9/2027"],
            ],
            code="old",
            number="160/KH-SKHCN",
        )
    assert "row 3" in str(refused.value)
    with pytest.raises(InvalidInput, match="superseded"), engine.context() as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "old"))
        start_plan(ctx, user(ctx, "vps.office"), plan.id)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"reporting_regim": "annual:12/04"}, "unknown key 'reporting_regim'"),
        ({"title": ["Kế hoạch"]}, "title must be text"),
        ({"code": "Kế hoạch số 1"}, "code 'Kế hoạch số 1'"),
        ({"number": "1" * 80}, "number is longer than 64 characters"),
    ],
)
def test_a_mistyped_manifest_is_named_not_ignored(
    organisation: Engine, fields: dict, problem: str
) -> None:
    with pytest.raises(ImportFailed) as refused:
        _reimport(organisation, [["1", "Việc", "Văn phòng Sở", "", "6/2027"]], **fields)
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    assert count(organisation, Plan) == 0
