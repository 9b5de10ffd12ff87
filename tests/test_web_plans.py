"""The Office's plans: the organisation's list, and a plan laid out like its appendix."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import sign_in
from workflow.demo import seed_manifests
from workflow.importer import import_plan, read_source
from workflow.models import User


def _seeds(engine) -> None:
    with engine.context() as ctx:
        admin = ctx.session.scalar(sa.select(User).where(User.username == "admin"))
        for manifest in seed_manifests():
            import_plan(ctx, admin, read_source(manifest))


def test_the_plan_page_reads_like_its_appendix(app, engine, client):
    _seeds(engine)
    sign_in(client, "vps.office")
    page = client.get("/plans/skhcn-57-2025").get_data(as_text=True)
    sections = [page.index(f">{n}</th>") for n in ("I", "II", "III", "IV", "V", "VI", "VII")]
    assert sections == sorted(sections)  # roman-numeral sections in the appendix's order
    assert "Sau khi có văn bản hướng dẫn của Trung ương" in page  # the timing as written
    assert "31/03/2025" in page  # … and as read (3/2025)
    assert (
        "Phòng Quản lý Khoa học và Công nghệ; Phòng Quản lý Tiêu chuẩn Đo lường Chất lượng" in page
    )
    assert "Tiềm lực, trình độ khoa học, công nghệ và đổi mới" in page  # the indicators
    listing = client.get("/plans").get_data(as_text=True)
    assert "546/KH-VPUBND" in listing and "vinhtuy-2244" not in listing  # another organisation


def test_a_superseded_plan_points_to_its_successor(app, engine, client):
    _seeds(engine)
    sign_in(client, "hcqt.office")
    page = client.get("/plans/vpubnd-160").get_data(as_text=True)
    assert "/plans/vpubnd-546" in page


def test_plans_are_for_those_who_see_the_organisation(app, engine, client):
    _seeds(engine)
    sign_in(client, "vps.head")
    assert client.get("/plans").status_code == 403
    assert client.get("/plans/skhcn-57-2025").status_code == 403
    ward = client.application.test_client()
    sign_in(ward, "vinhtuy.office")
    assert ward.get("/plans/skhcn-57-2025").status_code == 403
    assert ward.get("/plans/vinhtuy-2244").status_code == 200
    assert ward.get("/plans/no-such-plan").status_code == 404


def _statements(engine, request) -> int:
    """How many SQL statements ``request()`` runs."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine.database.engine, "before_cursor_execute", count)
    try:
        request()
    finally:
        event.remove(engine.database.engine, "before_cursor_execute", count)
    return len(statements)


def _rows(count: int) -> list[list[str]]:
    tasks = [
        [str(i), f"Việc {i}", "Văn phòng Sở", "Phòng Quản lý KH&CN", "6/2027"]
        for i in range(1, count + 1)
    ]
    return [["I", "Mục"], *tasks]


def test_the_plan_page_runs_a_fixed_number_of_queries(app, engine, client, make_plan):
    sign_in(client, "vps.office")
    make_plan(_rows(3), code="small", number="1/KH-SKHCN")
    make_plan(_rows(30), code="large", number="2/KH-SKHCN")
    small = _statements(engine, lambda: client.get("/plans/small"))
    large = _statements(engine, lambda: client.get("/plans/large"))
    assert small == large


def test_navigation_offers_only_the_screens_one_may_open(app, client):
    sign_in(client, "vps.head")
    nav = client.get("/unit").get_data(as_text=True).split("<nav>")[1].split("</nav>")[0]
    assert 'href="/unit"' in nav and "/office" not in nav and "/plans" not in nav
    office = client.application.test_client()
    sign_in(office, "vps.office")
    nav = office.get("/office").get_data(as_text=True).split("<nav>")[1].split("</nav>")[0]
    assert all(path in nav for path in ("/office", "/board", "/plans"))
