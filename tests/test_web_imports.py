"""Importing a plan through the web app: upload, preview, commit all or nothing (web/imports.py,
workflow/uploads.py), with the Flask test client on the real database."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.conftest import csrf_token, sign_in, user
from tests.test_cli import nhiemvu, refused
from tests.test_docx_import import APPENDIX_II, tasks_document, with_task
from tests.test_import_preview import counts
from tests.test_importer import build_workbook
from tools.sample_docx import SAMPLE
from workflow.context import Engine
from workflow.models import ImportUpload, Plan, Task, TaskEvent
from workflow.uploads import WAITING_PER_USER, store_upload

HEADER = "STT,Tên nhiệm vụ,Đơn vị chủ trì,Đơn vị phối hợp,Thời gian hoàn thành\n"
_TOKEN = re.compile(r"/plans/imports/([\w-]+)$")


def workbook_bytes(tmp_path: Path) -> bytes:
    return build_workbook(tmp_path / "ke-hoach.xlsx").read_bytes()


def uploads(engine: Engine) -> int:
    with engine.context(write=False) as ctx:
        return ctx.session.scalar(sa.select(sa.func.count()).select_from(ImportUpload))


def upload(client, content: bytes, filename: str, path: str = "/plans/imports", **fields):
    """Submit an import form the way a browser does: the token from the page that shows it."""
    form_page = "/plans" if path == "/plans/imports" else path.removesuffix("/imports")
    data = {"csrf_token": csrf_token(client, form_page), **fields}
    data["document"] = (io.BytesIO(content), filename)
    return client.post(path, data=data, content_type="multipart/form-data")


def token_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = _TOKEN.search(response.location)
    assert match, response.location
    return match[1]


def post(client, path: str):
    return client.post(path, data={"csrf_token": csrf_token(client, "/plans")})


def in_english(client) -> None:
    """Pages in English, the engine's messages as they are written (Vietnamese by default)."""
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/plans"), "next": "/"})


@pytest.fixture
def office(client):
    sign_in(client, "vps.office")
    in_english(client)
    return client


def test_upload_preview_commit(app, office, organisation: Engine, tmp_path: Path) -> None:
    page = office.get("/plans").get_data(as_text=True)
    assert 'id="import-plan"' in page and 'enctype="multipart/form-data"' in page
    before = counts(organisation)

    token = token_of(upload(office, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    assert counts(organisation) == before and uploads(organisation) == 1
    preview = office.get(f"/plans/imports/{token}")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "15/KH-SKHCN" in html and "Kế hoạch nhập từ bảng tính" in html
    assert 'data-ref="I.1"' in html and 'data-ref="II.1"' in html
    assert 'data-kind="fixed"' in html and "30/06/2026" in html
    assert 'data-kind="recurring"' in html
    assert html.count('data-action="new"') == 5  # 3 tasks, 2 indicators
    assert "Tổ chức thực hiện" in html  # a section title, above its rows
    assert 'id="commit-import"' in html and 'id="preview-problems"' not in html
    assert counts(organisation) == before

    done = post(office, f"/plans/imports/{token}/commit")
    assert done.status_code == 302 and done.location.endswith("/plans/xlsx-2026")
    shown = office.get(done.location).get_data(as_text=True)
    assert "3 tasks created, 0 updated, 0 unchanged, 2 indicators" in shown
    assert uploads(organisation) == 0
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "xlsx-2026"))
        assert len(plan.tasks) == 3 and len(plan.indicators) == 2
    assert post(office, f"/plans/imports/{token}/commit").status_code == 404  # used up


def test_update_a_plan_from_its_page(app, office, organisation: Engine, tmp_path: Path) -> None:
    token = token_of(upload(office, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    post(office, f"/plans/imports/{token}/commit")
    page = office.get("/plans/xlsx-2026").get_data(as_text=True)
    assert 'id="update-plan"' in page
    table = HEADER + "1,Nhiệm vụ bổ sung,Văn phòng Sở,,Theo tiến độ dự án\n"
    token = token_of(upload(office, table.encode(), "bo-sung.csv", path="/plans/xlsx-2026/imports"))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert "updates plan xlsx-2026" in html.replace("\n", " ")
    assert 'data-kind="unknown"' in html  # flagged for review, shown as a warning
    assert 'id="preview-warnings"' in html and "bo-sung.csv row 2" in html
    assert "I.1, I.2, II.1" in html  # the plan's tasks the file leaves as they are
    done = post(office, f"/plans/imports/{token}/commit")
    assert done.location.endswith("/plans/xlsx-2026")
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "xlsx-2026"))
        assert sorted(t.ref for t in plan.tasks) == ["1", "I.1", "I.2", "II.1"]


def test_problems_are_shown_and_nothing_is_written(
    app, office, organisation: Engine, tmp_path: Path
) -> None:
    token = token_of(upload(office, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    post(office, f"/plans/imports/{token}/commit")
    before = counts(organisation)
    table = HEADER + "1,Nhiệm vụ bổ sung,Phòng Không Có Thật,,2027\n2,,Văn phòng Sở,,2027\n"
    token = token_of(upload(office, table.encode(), "bo-sung.csv", path="/plans/xlsx-2026/imports"))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert 'id="preview-problems"' in html
    assert "bo-sung.csv row 2, column &#39;Đơn vị chủ trì&#39;: unknown unit" in html
    assert "bo-sung.csv row 3, column &#39;Tên nhiệm vụ&#39;: empty" in html
    assert 'id="commit-import"' not in html
    refused = post(office, f"/plans/imports/{token}/commit")  # a forged commit all the same
    assert refused.status_code == 400 and 'id="preview-problems"' in refused.get_data(as_text=True)
    assert counts(organisation) == before

    cancelled = post(office, f"/plans/imports/{token}/cancel")
    assert cancelled.location.endswith("/plans/xlsx-2026")
    assert uploads(organisation) == 0 and counts(organisation) == before


def test_a_commit_validates_again(app, office, organisation: Engine, tmp_path: Path) -> None:
    """The database changed between the preview and the commit: the commit is refused."""
    content = HEADER + "1,Nhiệm vụ của phòng mới,Phòng Sắp Xóa,,2027\n"
    token = token_of(upload(office, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    post(office, f"/plans/imports/{token}/commit")
    with organisation.context() as ctx:
        from workflow.administration import create_unit

        admin = user(ctx, "admin")
        skhcn = user(ctx, "vps.office").unit.parent
        create_unit(ctx, admin, code="PSX", name="Phòng Sắp Xóa", parent_id=skhcn.id)
    token = token_of(upload(office, content.encode(), "moi.csv", path="/plans/xlsx-2026/imports"))
    assert 'id="commit-import"' in office.get(f"/plans/imports/{token}").get_data(as_text=True)
    with organisation.context() as ctx:
        from workflow.models import Unit

        ctx.session.delete(ctx.session.scalar(sa.select(Unit).where(Unit.code == "PSX")))
    before = counts(organisation)
    refused = post(office, f"/plans/imports/{token}/commit")
    assert refused.status_code == 400
    assert "Phòng Sắp Xóa" in refused.get_data(as_text=True)
    assert counts(organisation) == before and uploads(organisation) == 1


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"PK\x03\x04 not really", "ke-hoach.xlsx", "not a readable .xlsx workbook"),
        (b"", "ke-hoach.xlsx", "the file is empty"),
        (b"%PDF-1.7", "ke-hoach.pdf", "a plan is imported from a .docx, .xlsx or .csv file"),
        (HEADER.encode(), "bang.csv", "holds tables without their plan"),
    ],
)
def test_a_file_that_is_no_plan_is_refused_with_one_message(
    app, office, organisation: Engine, content: bytes, filename: str, message: str
) -> None:
    response = upload(office, content, filename)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count('role="alert"') == 1 and message in html
    assert 'id="import-plan"' in html  # the form again, to choose another file
    assert uploads(organisation) == 0


def test_only_the_office_imports(app, client, organisation: Engine, tmp_path: Path) -> None:
    sign_in(client, "skhcn.director")
    assert 'id="import-plan"' not in client.get("/plans").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(client, "/plans"),
        "document": (io.BytesIO(workbook_bytes(tmp_path)), "ke-hoach.xlsx"),
    }
    response = client.post("/plans/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 403 and uploads(organisation) == 0


def test_an_upload_is_its_uploader_s_alone(app, organisation: Engine, tmp_path: Path) -> None:
    mine, theirs = app.test_client(), app.test_client()
    sign_in(mine, "vps.office")
    sign_in(theirs, "admin")  # may import anything, but not use someone else's upload
    token = token_of(upload(mine, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    assert theirs.get(f"/plans/imports/{token}").status_code == 404
    assert post(theirs, f"/plans/imports/{token}/commit").status_code == 404
    assert post(theirs, f"/plans/imports/{token}/cancel").status_code == 404
    assert uploads(organisation) == 1 and counts(organisation)["Plan"] == 0
    assert mine.get(f"/plans/imports/{token}").status_code == 200


def test_an_upload_older_than_a_day_is_refused_and_cleaned_up(
    app, office, organisation: Engine, clock, tmp_path: Path
) -> None:
    token = token_of(upload(office, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    clock.instant += timedelta(hours=25)
    expired = office.get(f"/plans/imports/{token}")
    assert expired.status_code == 400
    assert "uploaded more than 24 hours ago: upload it again" in expired.get_data(as_text=True)
    assert post(office, f"/plans/imports/{token}/commit").status_code == 400
    assert counts(organisation)["Plan"] == 0
    with organisation.context() as ctx:  # the next upload, by anyone, removes it
        store_upload(ctx, user(ctx, "admin"), "ke-hoach.xlsx", workbook_bytes(tmp_path))
        assert ctx.session.scalar(sa.select(ImportUpload.token)) != token
    assert uploads(organisation) == 1


def test_a_file_too_large_gets_a_page_not_a_traceback(app, office, organisation: Engine) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = upload(office, b"x" * (2 * 1024 * 1024), "lon.csv")
    assert response.status_code == 413
    assert "1 MB" in response.get_data(as_text=True) and uploads(organisation) == 0


def test_the_preview_and_its_messages_in_vietnamese(app, client, tmp_path: Path) -> None:
    sign_in(client, "vps.office")
    assert "Nhập kế hoạch" in client.get("/plans").get_data(as_text=True)
    refused = upload(client, b"", "ke-hoach.xlsx").get_data(as_text=True)
    assert "ke-hoach.xlsx: tệp trống" in refused
    token = token_of(upload(client, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    html = client.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert "Xem trước khi nhập" in html and ">Mới</span>" in html and "kế hoạch mới" in html
    done = post(client, f"/plans/imports/{token}/commit")
    shown = client.get(done.location).get_data(as_text=True)
    assert "Đã nhập kế hoạch 15/KH-SKHCN: 3 nhiệm vụ được tạo" in shown


def test_tasks_imported_through_the_web_keep_their_history(
    app, office, organisation: Engine, tmp_path: Path
) -> None:
    token = token_of(upload(office, workbook_bytes(tmp_path), "ke-hoach.xlsx"))
    post(office, f"/plans/imports/{token}/commit")
    with organisation.context(write=False) as ctx:
        events = ctx.session.scalars(
            sa.select(TaskEvent).join(Task).where(Task.ref == "I.1").order_by(TaskEvent.id)
        )
        assert [(e.action, e.actor.username) for e in events] == [("imported", "vps.office")]


def test_units_nobody_knows_are_created_only_when_asked(
    app, office, organisation: Engine, tmp_path: Path
) -> None:
    path = build_workbook(tmp_path / "ke-hoach.xlsx")
    book = load_workbook(path)
    book["Nhiệm vụ"]["C3"] = "Phòng Mới Thành Lập"  # task I.1's lead unit
    book.save(path)

    token = token_of(upload(office, path.read_bytes(), "ke-hoach.xlsx"))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert "unknown unit &#39;Phòng Mới Thành Lập&#39;" in html and 'id="commit-import"' not in html

    before = counts(organisation)
    token = token_of(upload(office, path.read_bytes(), "ke-hoach.xlsx", create_units="y"))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert "Phòng Mới Thành Lập <span" in html and ">new unit</span>" in html
    assert 'id="commit-import"' in html and counts(organisation) == before
    post(office, f"/plans/imports/{token}/commit")
    assert counts(organisation)["Unit"] == before["Unit"] + 1

    # and on a plan's page, for a table of tasks added to it
    table = HEADER + "9,Nhiệm vụ của tổ mới,Tổ Công Tác Mới,,2027\n"
    path = "/plans/xlsx-2026/imports"
    token = token_of(upload(office, table.encode(), "bo-sung.csv", path=path, create_units="y"))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert "Tổ Công Tác Mới <span" in html and 'id="commit-import"' in html
    post(office, f"/plans/imports/{token}/commit")
    assert counts(organisation)["Unit"] == before["Unit"] + 2


def test_problems_are_shown_in_the_clerks_language_and_the_cli_keeps_english(
    app, client, organisation: Engine, tmp_path: Path
) -> None:
    """A Vietnamese Office (the default language) reads each problem in Vietnamese, its place
    (sheet, row, column as the file titles it) as the file has it; the CLI prints English."""
    path = build_workbook(tmp_path / "ke-hoach.xlsx")
    book = load_workbook(path)
    book["Nhiệm vụ"]["C3"] = "Phòng Không Có Thật"  # task I.1's lead unit
    book["Nhiệm vụ"]["B4"] = None  # task I.2 without its name
    book["Chỉ tiêu"].delete_cols(7)  # the indicators without their 'Đơn vị chủ trì' column
    book.save(path)
    sign_in(client, "vps.office")

    token = token_of(upload(client, path.read_bytes(), "ke-hoach.xlsx"))
    page = unescape(client.get(f"/plans/imports/{token}").get_data(as_text=True))
    problems = re.findall(r'<li class="error">(.*?)</li>', page, re.DOTALL)
    assert problems == [
        "ke-hoach.xlsx [Nhiệm vụ], dòng 3, cột 'Đơn vị chủ trì': đơn vị 'Phòng Không Có Thật' "
        "chưa có trong danh sách (hãy thêm đơn vị hoặc tên gọi khác của đơn vị, hoặc chọn "
        "“Tạo các đơn vị chưa có trong danh sách” khi nhập)",
        "ke-hoach.xlsx [Nhiệm vụ], dòng 4, cột 'Tên nhiệm vụ': để trống",
        "ke-hoach.xlsx [Chỉ tiêu]: thiếu cột 'Đơn vị chủ trì' "
        "(các cột hiện có: STT, Mã số, Tên chỉ tiêu, Đơn vị tính, Mục tiêu, Năm)",
    ]
    assert "unknown unit" not in page and "row 3" not in page and 'id="commit-import"' not in page

    cli = nhiemvu(
        None, "--database-url", organisation.settings.database_url, "import", "--dry-run", str(path)
    )
    stderr = refused(cli)
    assert "ke-hoach.xlsx: 3 problems, nothing imported" in stderr
    assert (
        "ke-hoach.xlsx [Nhiệm vụ] row 3, column 'Đơn vị chủ trì': unknown unit "
        "'Phòng Không Có Thật' (add it, or an alias, or import with --create-units)" in stderr
    )
    assert "ke-hoach.xlsx [Nhiệm vụ] row 4, column 'Tên nhiệm vụ': empty" in stderr
    assert "ke-hoach.xlsx [Chỉ tiêu]: column 'Đơn vị chủ trì' is missing" in stderr
    assert "dòng" not in stderr


# --- Word documents ------------------------------------------------------------------------------


def test_the_sample_word_plan_is_previewed_and_imported(app, office, organisation: Engine) -> None:
    """The demo's Word file of plan 12/KH-SKHCN: its heading gives the plan, its appendices the
    rows the preview lists, and the commit stores them all."""
    token = token_of(upload(office, SAMPLE.read_bytes(), SAMPLE.name))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert "12/KH-SKHCN" in html and 'id="preview-problems"' not in html
    assert html.count('data-action="new"') == 21 + 8  # Appendix II's tasks, Appendix I's indicators
    assert 'data-kind="conditional"' in html and 'data-kind="ongoing"' in html
    done = post(office, f"/plans/imports/{token}/commit")
    assert done.status_code == 302
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.number == "12/KH-SKHCN"))
        assert (len(plan.tasks), len(plan.indicators)) == (21, 8)
        code = plan.code

    page = office.get(done.location).get_data(as_text=True)  # then the Office starts its tasks
    assert 'id="start-plan"' in page and "21 tasks of this plan are not started" in page
    started = office.post(
        f"/plans/{code}/start", data={"csrf_token": csrf_token(office, done.location)}
    )
    assert started.status_code == 302
    page = office.get(started.location).get_data(as_text=True)
    assert "21 tasks started, 7 of them waiting for their guidance." in page
    assert 'id="start-plan"' not in page
    with organisation.context(write=False) as ctx:
        states = ctx.session.scalars(sa.select(Task.status).join(Plan).where(Plan.code == code))
        assert Counter(states) == {"in_progress": 14, "waiting": 7}


def test_a_word_appendix_goes_into_the_plan_whose_page_it_is_uploaded_on(
    app, office, organisation: Engine, make_plan, tmp_path: Path
) -> None:
    make_plan([], code="skhcn-12", number="12/KH-SKHCN", issuer="SKHCN", start=False)
    path = tasks_document(tmp_path / "phu-luc-ii.docx")
    refused = upload(office, path.read_bytes(), path.name)  # from the list: which plan?
    assert refused.status_code == 400
    assert "holds tables without their plan" in refused.get_data(as_text=True)
    assert uploads(organisation) == 0

    token = token_of(upload(office, path.read_bytes(), path.name, path="/plans/skhcn-12/imports"))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert "updates plan skhcn-12" in html.replace("\n", " ")
    post(office, f"/plans/imports/{token}/commit")
    with organisation.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == "skhcn-12"))
        assert len(plan.tasks) == sum(isinstance(row, list) for row in APPENDIX_II)


def test_a_word_appendix_with_an_unknown_unit_names_table_row_and_column(
    app, office, organisation: Engine, make_plan, tmp_path: Path
) -> None:
    make_plan([], code="skhcn-12", number="12/KH-SKHCN", issuer="SKHCN", start=False)
    before = counts(organisation)
    rows = with_task(2, ["2", "Nhiệm vụ của phòng lạ", "Phòng Không Có Thật", "", "2026"])
    path = tasks_document(tmp_path / "phu-luc-loi.docx", rows)
    token = token_of(upload(office, path.read_bytes(), path.name, path="/plans/skhcn-12/imports"))
    html = office.get(f"/plans/imports/{token}").get_data(as_text=True)
    assert re.search(r"phu-luc-loi\.docx, table 1 row \d+, column &#39;Đơn vị chủ trì&#39;", html)
    assert 'id="commit-import"' not in html
    assert post(office, f"/plans/imports/{token}/commit").status_code == 400
    assert counts(organisation) == before


def _damaged(path: Path, member: str, old: str, new: str) -> bytes:
    """The file with one part's XML changed: a file a broken tool could write."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == member:
                assert old.encode() in data, (member, old)
                data = data.replace(old.encode(), new.encode(), 1)
            target.writestr(item, data)
    return out.getvalue()


def test_a_damaged_word_or_excel_file_gets_one_message(
    app, office, organisation: Engine, tmp_path: Path
) -> None:
    word = _damaged(
        tasks_document(tmp_path / "phu-luc.docx"),
        "word/document.xml",
        'w:gridSpan w:val="',
        'w:gridSpan w:val="x',
    )
    excel = _damaged(
        build_workbook(tmp_path / "ke-hoach.xlsx"),
        "xl/worksheets/sheet2.xml",
        '<c r="A2"',
        '<c r="A2" t="n"><v>abc</v></c><c r="B9"',
    )
    for content, name, says in (
        (word, "phu-luc.docx", "phu-luc.docx: not a readable Word document (ValueError)"),
        (excel, "ke-hoach.xlsx", "ke-hoach.xlsx: not a readable .xlsx workbook (ValueError)"),
    ):
        refused = upload(office, content, name, path="/plans/imports")
        assert refused.status_code == 400, refused.status_code
        assert says in refused.get_data(as_text=True)
    assert uploads(organisation) == 0


def test_one_person_keeps_a_bounded_number_of_uploads(
    app, office, organisation: Engine, tmp_path: Path
) -> None:
    content = workbook_bytes(tmp_path)
    with organisation.context() as ctx:
        for _ in range(WAITING_PER_USER):
            store_upload(ctx, user(ctx, "vps.office"), "ke-hoach.xlsx", content)
    refused = upload(office, content, "ke-hoach.xlsx")
    assert refused.status_code == 400
    assert f"{WAITING_PER_USER} of your uploads wait for a commit or a cancel" in refused.get_data(
        as_text=True
    )
    assert uploads(organisation) == WAITING_PER_USER
    with organisation.context() as ctx:  # another Office's uploads do not count against them
        store_upload(ctx, user(ctx, "hcqt.office"), "ke-hoach.xlsx", content)
    assert uploads(organisation) == WAITING_PER_USER + 1
