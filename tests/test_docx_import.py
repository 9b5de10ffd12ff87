"""Plans and appendices imported from Word documents, built here with python-docx the way the
seeds' appendices are laid out, read back through the real importer and database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from docx.document import Document

from tests.conftest import PlanMaker, task_by_ref, user
from tests.test_cli import nhiemvu, ok, refused
from tools.sample_docx import (
    SAMPLE,
    Row,
    Section,
    appendix_table,
    build_sample,
    centred,
    heading_block,
    new_document,
    plan_heading,
    signature_block,
    split_table,
)
from workflow.config import PROJECT_ROOT
from workflow.context import Engine
from workflow.errors import ImportFailed, InvalidInput
from workflow.importer import (
    PlanSource,
    import_plan,
    plan_source_for_table,
    read_source,
)
from workflow.models import Indicator, Plan, Task
from workflow.models import Section as PlanSection

TASKS = ["STT", "Tên nhiệm vụ", "Đơn vị chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
INDICATORS = ["TT", "Chỉ tiêu", "Đơn vị", "Kết quả", "Đơn vị chủ trì", "Đơn vị phối hợp"]
VINH_TUY = [
    "Stt",
    "Mã số",
    "Tên chỉ tiêu",
    "Cơ quan Trung ương chủ trì/phối hợp theo Quyết định số 2244/QĐ- TTg",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
]
PLAN = "12/KH-SKHCN"
OTHERS = "Các phòng đơn vị"

# Phụ lục II of seed 002 as Word prints it. Row 1 is the header, row 2 "(1) … (5)"; with the
# header repeated before section II (row 7), the rows below move down by one.
APPENDIX_II: list[Row] = [
    Section("I.", "Nâng cao nhận thức, đột phá về đổi mới tư duy"),  # row 3
    [  # row 4: the name in two paragraphs, the lead merged down over rows 4-5
        "1",
        ["đẩy mạnh tuyên truyền, quán triệt thường xuyên,", "sâu rộng nội dung Nghị quyết số 57-NQ/TW"],
        "Văn phòng Sở",
        OTHERS,
        "3/2025",
    ],
    ["2", "Xây dựng kế hoạch triển khai Kế hoạch của UBND tỉnh", "Văn phòng Sở", OTHERS, "02/2025"],
    [  # row 6: line breaks inside the lead and the timing
        "3",
        "Xây dựng chuyên trang, chuyên mục về khoa học, công nghệ",
        "Trung tâm\nKiểm định và\nPhát triển\nKH&CN",
        OTHERS,
        "Thường\nxuyên",
    ],
    Section("II.", "Tích cực tham gia xây dựng hoàn thiện thể chế"),  # row 8
    ["1", "Tổ chức triển khai thực hiện Luật của Quốc hội", "Văn phòng Sở", OTHERS, "Sau khi các văn bản Luật, Nghị định được ban hành"],
    ["2", "Đổi mới quy định quản lý nhiệm vụ khoa học công nghệ", "Phòng Quản lý KH&CN", OTHERS, "2025"],
    ["3", "Nghiên cứu triển khai quy định về quỹ đầu tư mạo hiểm", "Phòng Quản lý KH&CN", OTHERS, "Sau khi có hướng dẫn của trung ương"],
]  # fmt: skip

# Phụ lục I of seed 002: no year column, the horizon comes from the section rows.
APPENDIX_I: list[Row] = [
    Section("I", "Đến năm 2030"),
    ["1", "Tỷ lệ doanh nghiệp có hoạt động đổi mới sáng tạo", "%", "≥ 40", "Trung tâm Kiểm định và Phát triển KH&CN", "Các phòng,\nđơn vị thuộc\nSở"],
    ["2", "Khoa học, công nghệ và đổi mới sáng tạo duy trì chỉ số phát triển con người (HDI)", "Chỉ số phát\ntriển con\nngười (HDI)", "> 0,623", "Văn phòng Sở", "Các phòng,\nđơn vị thuộc\nSở"],
    ["3", "Chỉ số đổi mới sáng tạo địa phương (PII)", "%", "≤ 57", "Phòng Quản lý\nKH&CN", "Các phòng,\nđơn vị thuộc\nSở"],
    Section("II", "Đến năm 2045"),
    ["1", "Chỉ số đổi mới sáng tạo địa phương", "Thứ bậc", "≤ 55", "Phòng Quản lý KH&CN", "Các phòng,\nđơn vị thuộc\nSở"],
]  # fmt: skip

_CENTRAL_KHCN = "Bộ Khoa học và Công nghệ/Ủy ban nhân dân Thành phố/ Sở Khoa học và Công nghệ"
_CENTRAL_VH = "Bộ Văn hóa, Thể thao và Du lịch/Ủy ban nhân dân Thành phố/ Sở Văn hóa, Thể thao"
_VHXH = "Phòng Văn hóa - Xã hội"
_RELATED = "Các phòng, ban và các đơn vị có liên quan"
# The appendix of seed 003, split after 0410 as the seed prints it.
VINH_TUY_ROWS: list[Row] = [
    ["01", "0407", "Doanh thu từ dịch vụ trong lĩnh vực khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số", _CENTRAL_KHCN, _VHXH, _RELATED],
    ["02", "0408", "Tỷ lệ lao động làm việc tại các doanh nghiệp, tổ chức hoạt động trong lĩnh vực khoa học, công nghệ", _CENTRAL_KHCN, _VHXH, _RELATED],
    ["03", "0409", "Tỷ lệ người dân được tiếp cận cơ hội học tập suốt đời", "Bộ Giáo dục và Đào tạo/Ủy ban nhân dân Thành phố/ Sở Giáo dục và Đào tạo", _VHXH, "Các phòng, ban, các đơn vị có liên quan và các Trường học trên địa bàn phường"],
    ["04", "0410", "Tỷ lệ đơn vị hành chính áp dụng hệ thống giám sát, quản lý thông minh", "Bộ Khoa học và Công nghệ/Các bộ, cơ quan ngang bộ; Ủy ban nhân dân Thành phố/Sở Khoa học và Công nghệ", _VHXH, _RELATED],
    ["05", "0411", "Mức độ số hóa tài nguyên văn hóa dân tộc", _CENTRAL_VH, _VHXH, _RELATED],
    ["06", "0412", "Mức độ đổi mới sáng tạo trong phát huy giá trị văn hóa dân tộc", _CENTRAL_VH, _VHXH, _RELATED],
]  # fmt: skip


# --- helpers ---------------------------------------------------------------------------------------


@dataclass
class Imported:
    code: str
    number: str
    created: int
    updated: int
    unchanged: int
    indicators: int
    warnings: list[str]


def appendix_document(title: str = "PHỤ LỤC II") -> Document:
    """A document that is only an appendix: its heading cites the plan without a number."""
    document = new_document()
    centred(document, title, bold=True)
    centred(document, "(Kèm theo Kế hoạch số      /KH-SKHCN ngày      /02/2025 của Sở KH&CN)")
    return document


def tasks_document(path: Path, rows: list[Row] = APPENDIX_II, **options) -> Path:
    document = appendix_document()
    appendix_table(document, options.pop("header", TASKS), rows, **options)
    document.save(str(path))
    return path


def with_task(index: int, row: list[str]) -> list[Row]:
    rows = list(APPENDIX_II)
    rows[index] = row
    return rows


def import_docx(
    engine: Engine, path: Path, plan: str | None = PLAN, actor: str = "vps.office"
) -> Imported:
    """Import a Word file the way ``nhiemvu import [--plan]`` does; what the user is told."""
    with engine.context() as ctx:
        source = read_source(path)
        assert isinstance(source, PlanSource)
        if source.appendix_only:
            assert plan is not None, "an appendix needs its plan"
            source = plan_source_for_table(ctx, plan, source)
        result = import_plan(ctx, user(ctx, actor), source)
        return Imported(
            result.plan.code,
            result.plan.number,
            result.created,
            result.updated,
            result.unchanged,
            result.indicators,
            result.warnings,
        )


def problems_of(engine: Engine, path: Path) -> list[str]:
    """The problems a refused import names; the database is checked unchanged."""
    before = counts(engine)
    with pytest.raises(ImportFailed) as refused_import:
        import_docx(engine, path)
    assert counts(engine) == before
    return refused_import.value.problems


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.context(write=False) as ctx:
        return tuple(
            ctx.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Task, Indicator, PlanSection)
        )


def tasks_of(engine: Engine, code: str) -> dict[str, dict]:
    """Each task as the plan page shows it."""
    with engine.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == code))
        return {
            t.ref: {
                "name": t.name,
                "section": t.section.title if t.section else None,
                "lead": [link.unit.code for link in t.unit_links if link.role == "lead"],
                "cooperating": t.cooperating_units_text,
                "timing": (t.timing.kind.value, t.timing.deadline),
                "outputs": t.outputs,
            }
            for t in sorted(plan.tasks, key=lambda t: t.position)
        }


def indicators_of(engine: Engine, code: str) -> dict[str, dict]:
    with engine.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == code))
        rows = ctx.session.scalars(
            sa.select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.position)
        )
        return {
            i.ref: {
                "code": i.code,
                "name": i.name,
                "measure": i.measure,
                "target": (i.target_text, i.comparator, i.target_value),
                "year": i.horizon_year,
                "lead": [link.unit.code for link in i.unit_links if link.role == "lead"],
                "central": i.central_agency,
            }
            for i in rows
        }


@pytest.fixture
def plan_12(make_plan: PlanMaker) -> str:
    """Plan 12/KH-SKHCN, in the database without its appendices."""
    make_plan([], code="skhcn-12", number=PLAN, issuer="SKHCN", start=False)
    return "skhcn-12"


# --- what a user sees ------------------------------------------------------------------------------


def test_appendix_ii_with_merged_sections_units_and_lines_imports_each_task_once(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    path = tasks_document(tmp_path / "phu-luc-ii.docx", merge_down=[2, 3], repeat_header_before=4)
    result = import_docx(organisation, path)
    assert (result.created, result.warnings) == (6, [])

    tasks = tasks_of(organisation, plan_12)
    assert list(tasks) == ["I.1", "I.2", "I.3", "II.1", "II.2", "II.3"]  # no header, no (1) (2)
    first = tasks["I.1"]
    assert first["name"] == (
        "đẩy mạnh tuyên truyền, quán triệt thường xuyên, sâu rộng nội dung Nghị quyết số 57-NQ/TW"
    )
    assert first["section"] == "Nâng cao nhận thức, đột phá về đổi mới tư duy"
    assert tasks["II.1"]["section"] == "Tích cực tham gia xây dựng hoàn thiện thể chế"
    # A lead unit merged down over two rows leads both tasks; the cooperating cell too.
    assert [t["lead"] for t in tasks.values()] == [
        ["VPS"],
        ["VPS"],
        ["TTKD"],
        ["VPS"],
        ["QLKHCN"],
        ["QLKHCN"],
    ]
    assert {t["cooperating"] for t in tasks.values()} == {OTHERS}
    assert [t["timing"] for t in tasks.values()] == [
        ("fixed", date(2025, 3, 31)),
        ("fixed", date(2025, 2, 28)),
        ("ongoing", None),  # "Thường\nxuyên" across two lines
        ("conditional", None),
        ("fixed", date(2025, 12, 31)),
        ("conditional", None),
    ]


def test_outputs_keep_their_lines_other_cells_join_them(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    header = [*TASKS, "Sản phẩm"]
    products = ["Thông tin, dữ liệu, kết quả điều tra thống kê;", "Báo cáo về chỉ tiêu được giao"]
    rows: list[Row] = [
        Section("III.", "Nội dung thực hiện"),
        ["1", "Tổ chức thu thập,\ntổng hợp thông tin", "Văn phòng Sở", "", "Hằng năm", products],
    ]
    import_docx(organisation, tasks_document(tmp_path / "san-pham.docx", rows, header=header))
    task = tasks_of(organisation, plan_12)["III.1"]
    assert task["name"] == "Tổ chức thu thập, tổng hợp thông tin"
    assert task["outputs"] == "\n".join(products)
    assert task["timing"][0] == "recurring"


def test_appendix_i_indicators_take_their_horizon_from_the_section_rows(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    document = appendix_document("Phụ lục I")
    appendix_table(document, INDICATORS, APPENDIX_I, merge_down=[5])
    document.save(str(tmp_path / "phu-luc-i.docx"))
    result = import_docx(organisation, tmp_path / "phu-luc-i.docx")
    assert (result.created, result.indicators) == (0, 4)

    indicators = indicators_of(organisation, plan_12)
    assert list(indicators) == ["I.1", "I.2", "I.3", "II.1"]
    assert indicators["I.1"]["target"] == ("≥ 40", "≥", Decimal("40"))
    assert indicators["I.2"]["target"] == ("> 0,623", ">", Decimal("0.623"))
    assert indicators["I.2"]["measure"] == "Chỉ số phát triển con người (HDI)"
    assert indicators["I.3"]["lead"] == indicators["II.1"]["lead"] == ["QLKHCN"]
    assert [i["year"] for i in indicators.values()] == [2030, 2030, 2030, 2045]


def test_vinh_tuy_national_indicators_keep_their_codes_across_two_tables(
    make_plan: PlanMaker, tmp_path: Path
) -> None:
    office = "vinhtuy.office"
    make_plan([], code="vinhtuy", number="5/KH-UBND", issuer="VINHTUY", start=False, actor=office)
    document = appendix_document("Phụ lục")
    split_table(document, VINH_TUY, VINH_TUY_ROWS, 4)
    document.save(str(tmp_path / "vinh-tuy.docx"))
    result = import_docx(make_plan.engine, tmp_path / "vinh-tuy.docx", "5/KH-UBND", office)
    assert result.indicators == 6

    indicators = indicators_of(make_plan.engine, "vinhtuy")
    assert list(indicators) == ["01", "02", "03", "04", "05", "06"]
    assert [i["code"] for i in indicators.values()] == [
        "0407",
        "0408",
        "0409",
        "0410",
        "0411",
        "0412",
    ]
    assert indicators["01"]["central"] == (
        "Bộ Khoa học và Công nghệ/Ủy ban nhân dân Thành phố/ Sở Khoa học và Công nghệ"
    )
    assert {tuple(i["lead"]) for i in indicators.values()} == {("VHXH",)}


def test_a_whole_plan_document_brings_its_heading_and_both_appendices(
    organisation: Engine, tmp_path: Path
) -> None:
    document = new_document()
    heading_block(
        document,
        ["UBND TỈNH LAI CHÂU", "SỞ KHOA HỌC VÀ CÔNG NGHỆ"],
        "7/KH-SKHCN",
        "Lai Châu, ngày 10 tháng 02 năm 2025",
    )
    plan_heading(document, "Triển khai Nghị quyết số 57-NQ/TW về khoa học, công nghệ")
    document.add_paragraph("Thực hiện Kế hoạch của UBND tỉnh, Sở ban hành Kế hoạch như sau:")
    signature_block(document, ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"])
    centred(document, "Phụ lục I")
    appendix_table(document, INDICATORS, APPENDIX_I)
    centred(document, "Phụ lục II")
    appendix_table(document, TASKS, APPENDIX_II)
    document.save(str(tmp_path / "ke-hoach.docx"))

    result = import_docx(organisation, tmp_path / "ke-hoach.docx", plan=None)
    assert (result.created, result.indicators) == (6, 4)
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.number == "7/KH-SKHCN"))
        assert plan.code == "7-kh-skhcn"
        assert plan.title == "Triển khai Nghị quyết số 57-NQ/TW về khoa học, công nghệ"
        assert plan.issuer.code == "SKHCN"
        assert plan.issuer_text == "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
        assert (plan.issued_on, plan.issued_text) == (
            date(2025, 2, 10),
            "ngày 10 tháng 02 năm 2025",
        )
        assert (
            task_by_ref(ctx, plan.code, "I.3").lead_units_text
            == "Trung tâm Kiểm định và Phát triển KH&CN"
        )


def test_the_sample_document_imports_as_seed_002_does(organisation: Engine, tmp_path: Path) -> None:
    """The demo's Word sample holds the tables of seed 002: imported, it gives the tasks and
    indicators the seed's CSVs give, as a plan of its own; and tools/sample_docx.py still builds it."""
    seed = PROJECT_ROOT / "workflow" / "data" / "seeds" / "01-skhcn-57-2025.toml"
    with organisation.context() as ctx:
        import_plan(ctx, user(ctx, "admin"), read_source(seed))
    result = import_docx(organisation, SAMPLE, plan=None, actor="admin")
    assert (result.number, result.created, result.indicators) == (PLAN, 21, 8)
    assert result.warnings == []
    assert tasks_of(organisation, result.code) == tasks_of(organisation, "skhcn-57-2025")
    assert indicators_of(organisation, result.code) == indicators_of(organisation, "skhcn-57-2025")

    rebuilt = read_source(build_sample(tmp_path / SAMPLE.name))
    committed = read_source(SAMPLE)
    assert (rebuilt.fields, rebuilt.tasks, rebuilt.indicators) == (
        committed.fields,
        committed.tasks,
        committed.indicators,
    )


def test_reimporting_the_same_document_changes_nothing(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    path = tasks_document(tmp_path / "phu-luc-ii.docx", merge_down=[2])
    import_docx(organisation, path)
    again = import_docx(organisation, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


# --- awkward documents -----------------------------------------------------------------------------


def test_a_missing_column_is_named_with_its_table_and_nothing_is_written(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    rows = [r if isinstance(r, Section) else list(r[:4]) for r in APPENDIX_II]
    path = tasks_document(tmp_path / "thieu-cot.docx", rows, header=TASKS[:4])
    problems = problems_of(organisation, path)
    assert len(problems) == 1
    assert problems[0].startswith(
        "thieu-cot.docx, table 1: column 'Thời gian hoàn thành' is missing"
    )


def test_an_unknown_unit_is_named_by_table_row_and_column(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    rows = with_task(2, ["2", "Xây dựng kế hoạch", "Phòng Không Có Thật", OTHERS, "02/2025"])
    problems = problems_of(organisation, tasks_document(tmp_path / "don-vi.docx", rows))
    assert len(problems) == 1
    assert problems[0].startswith("don-vi.docx, table 1 row 5, column 'Đơn vị chủ trì'")
    assert "Phòng Không Có Thật" in problems[0]


def test_a_timing_nobody_can_read_is_imported_and_flagged_with_its_row(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    rows = with_task(
        3, ["3", "Xây dựng chuyên trang", "Văn phòng Sở", OTHERS, "Theo tiến độ\ndự án"]
    )
    result = import_docx(organisation, tasks_document(tmp_path / "thoi-gian.docx", rows))
    assert result.created == 6
    assert result.warnings == [
        "thoi-gian.docx, table 1 row 6: timing 'Theo tiến độ dự án' not understood; "
        "task I.3 is imported and flagged for review"
    ]
    assert tasks_of(organisation, plan_12)["I.3"]["timing"] == ("unknown", None)


@pytest.mark.parametrize("repeat_header", [True, False], ids=["own-header", "no-header"])
def test_a_table_split_over_two_pages_is_read_once_and_named_by_its_own_table(
    organisation: Engine, plan_12: str, tmp_path: Path, repeat_header: bool
) -> None:
    # Section I on the first page; its last task and section II on the next.
    document = appendix_document()
    split_table(document, TASKS, APPENDIX_II, 3, repeat_header=repeat_header)
    document.save(str(tmp_path / "hai-trang.docx"))
    import_docx(organisation, tmp_path / "hai-trang.docx")
    tasks = tasks_of(organisation, plan_12)
    assert list(tasks) == ["I.1", "I.2", "I.3", "II.1", "II.2", "II.3"]
    assert tasks["I.3"]["section"] == "Nâng cao nhận thức, đột phá về đổi mới tư duy"

    # A problem in the second half names the second table and its own row.
    broken = list(APPENDIX_II)
    broken[6] = ["2", "Đổi mới quy định", "Phòng Không Có Thật", OTHERS, "2025"]
    document = appendix_document()
    split_table(document, TASKS, broken, 3, repeat_header=repeat_header)
    document.save(str(tmp_path / "hai-trang-loi.docx"))
    with pytest.raises(ImportFailed) as refused_import:
        import_docx(organisation, tmp_path / "hai-trang-loi.docx")
    row = 5 if repeat_header else 4  # its header is row 1 of its own
    [problem] = refused_import.value.problems
    assert problem.startswith(f"hai-trang-loi.docx, table 2 row {row}, column 'Đơn vị chủ trì'")


def test_a_repeated_number_across_the_split_names_both_places(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    rows = with_task(3, ["2", "Xây dựng chuyên trang", "Văn phòng Sở", OTHERS, "2025"])
    document = appendix_document()
    split_table(document, TASKS, rows, 3)
    document.save(str(tmp_path / "trung.docx"))
    problems = problems_of(organisation, tmp_path / "trung.docx")
    assert problems == [
        "trung.docx, table 2 row 2, column 'STT': task I.2 repeats row 5",
    ]


def test_a_number_merged_down_over_two_rows_leaves_the_lower_row_unnumbered(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    rows = with_task(2, ["1", "Xây dựng kế hoạch", "Văn phòng Sở", OTHERS, "02/2025"])
    problems = problems_of(
        organisation, tasks_document(tmp_path / "gop.docx", rows, merge_down=[0])
    )
    assert problems == [
        "gop.docx, table 1 row 5, column 'STT': empty (each task row needs its number)"
    ]


def test_two_task_tables_with_other_columns_are_refused_naming_both(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    document = appendix_document()
    appendix_table(document, TASKS, APPENDIX_II[:3])
    centred(document, "PHỤ LỤC III")
    appendix_table(
        document, [*TASKS, "Sản phẩm"], [["1", "Báo cáo", "Văn phòng Sở", "", "2025", ""]]
    )
    document.save(str(tmp_path / "hai-bang.docx"))
    with pytest.raises(InvalidInput) as refused_read:
        read_source(tmp_path / "hai-bang.docx")
    message = str(refused_read.value)
    assert message.startswith("hai-bang.docx, table 2: its columns")
    assert "are not those of table 1" in message


def test_a_file_that_is_not_a_word_document_gets_one_message(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.docx"
    path.write_text("STT,Tên nhiệm vụ\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"ke-hoach\.docx: not a readable Word document"):
        read_source(path)
    with pytest.raises(InvalidInput, match=r"save a \.doc as \.docx"):
        read_source(path.rename(tmp_path / "ke-hoach.doc"))


def test_a_word_file_without_an_appendix_table_is_refused(tmp_path: Path) -> None:
    document = new_document()
    heading_block(
        document, ["UBND TỈNH LAI CHÂU"], "3/KH-UBND", "Lai Châu, ngày 5 tháng 3 năm 2025"
    )
    plan_heading(document, "Kế hoạch không có phụ lục")
    signature_block(document, ["CHỦ TỊCH"])
    document.save(str(tmp_path / "khong-phu-luc.docx"))
    with pytest.raises(InvalidInput, match=r"khong-phu-luc\.docx: no appendix table found"):
        read_source(tmp_path / "khong-phu-luc.docx")


# --- the command line ------------------------------------------------------------------------------


def _cli(engine: Engine, tmp_path: Path, *args: str):
    return nhiemvu(tmp_path / "instance", "--database-url", engine.settings.database_url, *args)


def test_cli_imports_a_whole_plan_document(organisation: Engine, tmp_path: Path) -> None:
    out = ok(_cli(organisation, tmp_path, "import", str(SAMPLE)))
    assert f"plan {PLAN}: 21 tasks created, 0 updated, 0 unchanged, 8 indicators" in out
    assert len(tasks_of(organisation, "12-kh-skhcn")) == 21


def test_cli_needs_plan_for_an_appendix_only_document(
    organisation: Engine, plan_12: str, tmp_path: Path
) -> None:
    path = tasks_document(tmp_path / "phu-luc-ii.docx")
    stderr = refused(_cli(organisation, tmp_path, "import", str(path)))
    assert "phu-luc-ii.docx" in stderr and "--plan CODE" in stderr
    assert counts(organisation)[0] == 0

    out = ok(_cli(organisation, tmp_path, "import", "--plan", plan_12, str(path)))
    assert f"plan {PLAN}: 6 tasks created" in out
    assert len(tasks_of(organisation, plan_12)) == 6


def test_cli_refuses_a_damaged_word_file_without_a_traceback(
    organisation: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "hong.docx"
    path.write_bytes(os.urandom(64))
    stderr = refused(_cli(organisation, tmp_path, "import", str(path)))
    assert "hong.docx: not a readable Word document" in stderr
