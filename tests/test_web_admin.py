"""Units, aliases and accounts managed in the browser by the Office (web/admin.py)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, post_form, sign_in, user
from tests.test_administration import snapshot
from workflow import administration as svc
from workflow.models import Unit, UnitAlias, User

NEW_PASSWORD = "mot-mat-khau-moi-dai"


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def unit_id(engine, code: str) -> int:
    with engine.context() as ctx:
        return ctx.session.scalar(sa.select(Unit.id).where(Unit.code == code))


def user_id(engine, username: str) -> int:
    with engine.context() as ctx:
        return ctx.session.scalar(sa.select(User.id).where(User.username == username))


def rows_of(page: str, attribute: str) -> list[str]:
    return re.findall(rf'data-{attribute}="(\d+)"', page)


def test_the_office_sees_the_entry_and_the_tree_of_its_organisation(engine, english):
    sign_in(english, "vps.office")
    nav = english.get("/office").get_data(as_text=True).split("<nav>")[1].split("</nav>")[0]
    assert "/admin/units" in nav and "Units and users" in nav
    page = english.get("/admin/units")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Phòng Quản lý KH&amp;CN" in html  # an alias
    listed = set(rows_of(html, "unit"))
    assert str(unit_id(engine, "VPS")) in listed and str(unit_id(engine, "VHXH")) not in listed
    users = english.get("/admin/users").get_data(as_text=True)
    assert str(user_id(engine, "vps.head")) in rows_of(users, "user")
    assert str(user_id(engine, "vhxh.head")) not in rows_of(users, "user")


def test_the_office_creates_a_unit_and_gives_it_an_alias(engine, english):
    sign_in(english, "vps.office")
    response = post_form(
        english,
        "/admin/units",
        {
            "code": "QLCN",
            "name": "Phòng Quản lý Công nghệ",
            "parent": unit_id(engine, "SKHCN"),
            "kind": "division",
        },
    )
    new_id = unit_id(engine, "QLCN")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/units/{new_id}"
    assert "Phòng Quản lý Công nghệ" in english.get(f"/admin/units/{new_id}").get_data(as_text=True)
    added = post_form(english, f"/admin/units/{new_id}/aliases", {"alias": "Phòng QLCN"})
    assert added.status_code == 302
    with engine.context() as ctx:
        alias = ctx.session.scalar(sa.select(UnitAlias).where(UnitAlias.unit_id == new_id))
        assert alias.alias == "Phòng QLCN"
    page = english.get(f"/admin/units/{new_id}").get_data(as_text=True)
    assert "Phòng QLCN" in page and "The alias “Phòng QLCN” is added." in page
    renamed = post_form(english, f"/admin/units/{new_id}/rename", {"name": "Phòng Công nghệ"})
    assert renamed.status_code == 302
    removed = post_form(
        english,
        f"/admin/units/{new_id}/aliases/{alias.id}/remove",
        form_page=f"/admin/units/{new_id}",
    )
    assert removed.status_code == 302
    with engine.context() as ctx:
        assert ctx.session.get(Unit, new_id).name == "Phòng Công nghệ"
        assert ctx.session.get(UnitAlias, alias.id) is None


def test_an_ambiguous_alias_is_refused_with_a_message_naming_it(engine, english):
    sign_in(english, "vps.office")
    before = snapshot(engine)
    vps = unit_id(engine, "VPS")
    response = post_form(english, f"/admin/units/{vps}/aliases", {"alias": "Phòng Quản lý KHCN"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "alias: &#39;Phòng Quản lý KHCN&#39; would be ambiguous" in html
    assert "Phòng Quản lý Khoa học và Công nghệ (QLKHCN)" in html
    assert 'value="Phòng Quản lý KHCN"' in html  # the form keeps what was typed
    assert snapshot(engine) == before


def test_a_unit_with_a_bad_code_or_a_taken_name_is_redisplayed(engine, english):
    sign_in(english, "vps.office")
    before = snapshot(engine)
    skhcn = unit_id(engine, "SKHCN")
    for data, message in (
        ({"code": "a b", "name": "Phòng mới"}, "code: &#39;A B&#39; is not valid"),
        ({"code": "NEW", "name": "Sở Tư pháp"}, "would be ambiguous"),
        ({"code": "NEW", "name": ""}, 'data-field="name"'),
    ):
        response = post_form(english, "/admin/units", {**data, "parent": skhcn, "kind": "division"})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    foreign = post_form(
        english,
        "/admin/units",
        {
            "code": "NEW",
            "name": "Phòng mới",
            "parent": unit_id(engine, "VINHTUY"),
            "kind": "division",
        },
    )
    assert foreign.status_code == 400  # not a choice the form offers
    assert snapshot(engine) == before


def test_a_unit_that_leads_tasks_offers_no_deletion_and_refuses_one(make_plan, engine, english):
    make_plan([["1", "Việc một", "Văn phòng Sở", "", "6/2027"]])
    sign_in(english, "vps.office")
    vps = unit_id(engine, "VPS")
    page = english.get(f"/admin/units/{vps}").get_data(as_text=True)
    assert f"/admin/units/{vps}/delete" not in page and '<dd id="tasks-led">1</dd>' in page
    before = snapshot(engine)
    response = post_form(english, f"/admin/units/{vps}/delete", form_page=f"/admin/units/{vps}")
    assert response.status_code == 400
    assert "VPS cannot be deleted: it has 1 task(s)" in response.get_data(as_text=True)
    assert snapshot(engine) == before


def test_the_office_creates_an_account_that_then_signs_in(app, engine, english):
    sign_in(english, "vps.office")
    response = post_form(
        english,
        "/admin/users",
        {
            "username": "qltdc.delegate",
            "full_name": "Lò Văn Nam",
            "role": "unit_delegate",
            "unit": unit_id(engine, "QLTDC"),
            "email": "",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert "qltdc.delegate" in english.get("/admin/users").get_data(as_text=True)
    newcomer = app.test_client()
    assert sign_in(newcomer, "qltdc.delegate", NEW_PASSWORD).status_code == 302
    assert newcomer.get("/").headers["Location"] == "/unit"


def test_a_bad_username_is_redisplayed_with_its_message(engine, english):
    sign_in(english, "vps.office")
    before = snapshot(engine)
    response = post_form(
        english,
        "/admin/users",
        {
            "username": "x y",
            "full_name": "Lò Văn Nam",
            "role": "unit_head",
            "unit": unit_id(engine, "QLTDC"),
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-field="username">username: &#39;x y&#39; is not valid' in html
    assert 'value="Lò Văn Nam"' in html and NEW_PASSWORD not in html  # never echoed back
    assert snapshot(engine) == before


def test_the_office_is_not_offered_the_administrator_role_nor_may_it_post_it(engine, english):
    sign_in(english, "vps.office")
    page = english.get("/admin/users").get_data(as_text=True)
    assert 'value="admin"' not in page and 'value="office"' in page
    before = snapshot(engine)
    response = post_form(
        english,
        "/admin/users",
        {
            "username": "boss",
            "full_name": "Sếp",
            "role": "admin",
            "unit": "",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert snapshot(engine) == before


def test_a_deactivated_accounts_open_session_is_signed_out(app, engine, english):
    victim = app.test_client()
    sign_in(victim, "stp.head")
    assert victim.get("/unit").status_code == 200
    sign_in(english, "vps.office")
    stp = user_id(engine, "stp.head")
    response = post_form(english, f"/admin/users/{stp}/deactivate", form_page=f"/admin/users/{stp}")
    assert response.status_code == 302
    assert "Deactivated" in english.get(f"/admin/users/{stp}").get_data(as_text=True)
    assert victim.get("/unit").headers["Location"].startswith("/login")
    assert sign_in(app.test_client(), "stp.head").status_code == 200  # refused: the form again
    assert (
        post_form(
            english, f"/admin/users/{stp}/reactivate", form_page=f"/admin/users/{stp}"
        ).status_code
        == 302
    )
    assert sign_in(app.test_client(), "stp.head").status_code == 302


def test_the_office_cannot_deactivate_itself(engine, english):
    sign_in(english, "vps.office")
    me = user_id(engine, "vps.office")
    assert "/deactivate" not in english.get(f"/admin/users/{me}").get_data(as_text=True)
    before = snapshot(engine)
    response = post_form(english, f"/admin/users/{me}/deactivate", form_page=f"/admin/users/{me}")
    assert response.status_code == 400
    assert "you cannot deactivate your own account" in response.get_data(as_text=True)
    assert snapshot(engine) == before


def test_a_password_reset_signs_the_account_in_with_the_new_one(app, engine, english):
    sign_in(english, "vps.office")
    stp = user_id(engine, "stp.head")
    short = post_form(
        english,
        f"/admin/users/{stp}/password",
        {"password": "ngan", "confirm": "ngan"},
        form_page=f"/admin/users/{stp}",
    )
    assert short.status_code == 400 and 'data-field="password"' in short.get_data(as_text=True)
    done = post_form(
        english,
        f"/admin/users/{stp}/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        form_page=f"/admin/users/{stp}",
    )
    assert done.status_code == 302
    assert sign_in(app.test_client(), "stp.head").status_code == 200  # the old one no more
    assert sign_in(app.test_client(), "stp.head", NEW_PASSWORD).status_code == 302


def _every_admin_url(engine) -> tuple[list[str], list[tuple[str, dict]]]:
    vps, stp = unit_id(engine, "VPS"), user_id(engine, "stp.head")
    with engine.context() as ctx:
        alias = ctx.session.scalar(
            sa.select(UnitAlias.id).where(UnitAlias.unit_id == unit_id(engine, "QLKHCN"))
        )
    qlkhcn = unit_id(engine, "QLKHCN")
    gets = ["/admin/units", f"/admin/units/{vps}", "/admin/users", f"/admin/users/{stp}"]
    posts = [
        (
            "/admin/units",
            {
                "code": "NEW",
                "name": "Phòng mới",
                "parent": unit_id(engine, "SKHCN"),
                "kind": "division",
            },
        ),
        (f"/admin/units/{vps}/rename", {"name": "Tên mới"}),
        (f"/admin/units/{vps}/aliases", {"alias": "Bí danh mới"}),
        (f"/admin/units/{qlkhcn}/aliases/{alias}/remove", {}),
        (f"/admin/units/{vps}/delete", {}),
        (
            "/admin/users",
            {
                "username": "new.one",
                "full_name": "Người mới",
                "role": "unit_head",
                "unit": vps,
                "password": NEW_PASSWORD,
            },
        ),
        (f"/admin/users/{stp}/deactivate", {}),
        (f"/admin/users/{stp}/reactivate", {}),
        (f"/admin/users/{stp}/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ]
    return gets, posts


@pytest.mark.parametrize("who", ["vps.head", "laichau.leader"])
def test_a_unit_head_or_leader_gets_403_everywhere_and_nothing_changes(engine, english, who):
    sign_in(english, who)
    home = "/unit" if who == "vps.head" else "/board"
    assert "/admin/" not in english.get(home).get_data(as_text=True)
    gets, posts = _every_admin_url(engine)
    for url in gets:
        assert english.get(url).status_code == 403, url
    before = snapshot(engine)
    token = csrf_token(english, home)
    for url, data in posts:
        assert english.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert snapshot(engine) == before


def test_the_office_of_another_organisation_cannot_see_or_touch_these(engine, english):
    sign_in(english, "vinhtuy.office")
    gets, posts = _every_admin_url(engine)
    listing = english.get("/admin/units").get_data(as_text=True)
    assert str(unit_id(engine, "VPS")) not in rows_of(listing, "unit")
    users = english.get("/admin/users").get_data(as_text=True)
    assert str(user_id(engine, "stp.head")) not in rows_of(users, "user")
    for url in gets[1::2]:  # one unit's page, one account's page
        assert english.get(url).status_code == 403, url
    before = snapshot(engine)
    token = csrf_token(english, "/admin/units")
    for url, data in posts:
        assert english.post(url, data={**data, "csrf_token": token}).status_code in (400, 403), url
    assert snapshot(engine) == before


def test_an_unknown_unit_or_account_is_404(english):
    sign_in(english, "vps.office")
    assert english.get("/admin/units/999999").status_code == 404
    assert english.get("/admin/users/999999").status_code == 404


def _statements(engine, request) -> int:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(engine.database.engine, "before_cursor_execute", count)
    try:
        assert request().status_code == 200
    finally:
        sa.event.remove(engine.database.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_list_pages_run_a_fixed_number_of_queries(make_plan, engine, english):
    make_plan([["1", "Việc một", "Văn phòng Sở", "Phòng Quản lý KH&CN", "6/2027"]])
    sign_in(english, "vps.office")
    few = [
        _statements(engine, lambda url=url: english.get(url))
        for url in ("/admin/units", "/admin/users")
    ]
    skhcn = unit_id(engine, "SKHCN")
    with engine.context() as ctx:
        office = user(ctx, "vps.office")
        for i in range(10):
            made = svc.create_unit(ctx, office, code=f"P{i}", name=f"Phòng số {i}", parent_id=skhcn)
            svc.add_alias(ctx, office, made.id, f"Phòng thứ {i}")
            svc.create_user(
                ctx,
                office,
                username=f"p{i}.head",
                full_name=f"Trưởng {i}",
                role="unit_head",
                unit_id=made.id,
            )
    many = [
        _statements(engine, lambda url=url: english.get(url))
        for url in ("/admin/units", "/admin/users")
    ]
    assert many == few


def test_a_refusal_is_shown_in_the_readers_language_next_to_its_field(engine, client, monkeypatch):
    """The field is found from the English text, whatever language the reader sees."""
    words = {
        "%(field)s: %(value)s is not valid: %(rule)s": "%(field)s: %(value)s không hợp lệ",
        "username": "Tên đăng nhập",
    }
    monkeypatch.setattr("web.errors._translate", lambda template: words.get(template, template))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    sign_in(client, "vps.office")
    response = post_form(
        client,
        "/admin/users",
        {
            "username": "x y",
            "full_name": "Lò Văn Nam",
            "role": "unit_head",
            "unit": unit_id(engine, "QLTDC"),
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-field="username">Tên đăng nhập: &#39;x y&#39; không hợp lệ' in html


def test_only_an_administrator_is_offered_the_aliases_of_a_top_level_unit(app, engine):
    province, department = unit_id(engine, "LAICHAU"), unit_id(engine, "QLKHCN")
    pages = {}
    for who in ("vps.office", "admin"):
        reader = app.test_client()
        reader.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        sign_in(reader, who)
        pages[who] = {
            unit: reader.get(f"/admin/units/{unit}").get_data(as_text=True)
            for unit in (province, department)
        }
    add = '/aliases" novalidate'
    assert add not in pages["vps.office"][province]
    assert "an administrator changes them" in pages["vps.office"][province]
    assert add in pages["vps.office"][department]
    assert add in pages["admin"][province]
