"""The Office manages units, aliases and accounts of its organisation (workflow.administration).

Each rule is checked on the demo organisation (two organisations: Lai Châu and Vĩnh Tuy), and
each refusal is shown to change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import user
from workflow import accounts
from workflow import administration as admin
from workflow.errors import InvalidInput, NotFound, PermissionDenied
from workflow.models import Unit, UnitAlias, User
from workflow.units import UnitDirectory

PASSWORD = "mot-mat-khau-dai-du"


def unit(ctx, code: str) -> Unit:
    found = ctx.session.scalar(sa.select(Unit).where(Unit.code == code))
    assert found is not None, code
    return found


def snapshot(engine) -> tuple:
    """Everything these services could change."""
    with engine.context() as ctx:
        s = ctx.session
        return (
            tuple(
                s.execute(
                    sa.select(
                        Unit.id, Unit.code, Unit.name, Unit.name_key, Unit.parent_id
                    ).order_by(Unit.id)
                )
            ),
            tuple(
                s.execute(
                    sa.select(
                        UnitAlias.id, UnitAlias.scope_unit_id, UnitAlias.key, UnitAlias.unit_id
                    ).order_by(UnitAlias.id)
                )
            ),
            tuple(
                s.execute(
                    sa.select(
                        User.id,
                        User.username,
                        User.role,
                        User.unit_id,
                        User.active,
                        User.session_token,
                        User.password_hash,
                    ).order_by(User.id)
                )
            ),
        )


def refused(engine, error: type[Exception], match: str, call) -> None:
    """``call(ctx)`` raises ``error`` with ``match`` and leaves the database as it was."""
    before = snapshot(engine)
    with pytest.raises(error, match=match), engine.context() as ctx:
        call(ctx)
    assert snapshot(engine) == before


# --- reading -------------------------------------------------------------------------------------


def test_the_office_sees_its_organisation_as_a_tree_and_an_admin_sees_all(make_plan, engine):
    make_plan([["1", "Việc một", "Văn phòng Sở", "", "6/2027"]])
    with engine.context() as ctx:
        rows = admin.unit_tree(ctx, user(ctx, "vps.office"))
        codes = [r.unit.code for r in rows]
        assert codes[0] == "LAICHAU" and "VINHTUY" not in codes and "VHXH" not in codes
        by_code = {r.unit.code: r for r in rows}
        assert by_code["SKHCN"].depth == 1 and by_code["VPS"].depth == 2
        assert codes.index("SKHCN") < codes.index("VPS") < codes.index("STC")
        assert by_code["VPS"].tasks_led == 1 and by_code["QLKHCN"].tasks_led == 0
        assert [a.alias for a in by_code["QLKHCN"].aliases] == ["Phòng Quản lý KH&CN"]
        assert by_code["VPS"].accounts == 2  # vps.office, vps.head
        ward = [r.unit.code for r in admin.unit_tree(ctx, user(ctx, "vinhtuy.office"))]
        assert ward[0] == "VINHTUY" and "LAICHAU" not in ward
        everything = [r.unit.code for r in admin.unit_tree(ctx, user(ctx, "admin"))]
        assert {"LAICHAU", "VINHTUY"} <= set(everything)
        assert len(everything) == ctx.session.scalar(sa.select(sa.func.count(Unit.id)))


def test_the_accounts_listed_are_those_of_the_organisation(organisation, clock):
    with organisation.context() as ctx:
        names = [r.user.username for r in admin.user_list(ctx, user(ctx, "vps.office"))]
        assert "vps.head" in names and "admin" in names  # the administrator's unit is here
        assert "vinhtuy.office" not in names and "vhxh.head" not in names
        assert names == sorted(names)
        user(ctx, "vps.head").locked_until = clock.now() + timedelta(minutes=5)
        rows = {r.user.username: r for r in admin.user_list(ctx, user(ctx, "vinhtuy.office"))}
        assert set(rows) == {"vinhtuy.office", "vhxh.head"}
        locked = {r.user.username: r.locked for r in admin.user_list(ctx, user(ctx, "admin"))}
        assert locked["vps.head"] and not locked["vps.office"]


@pytest.mark.parametrize("who", ["vps.head", "qlkhcn.delegate", "laichau.leader"])
def test_only_the_office_and_administrators_manage_units_and_users(organisation, who):
    with organisation.context() as ctx:
        actor = user(ctx, who)
        for call in (
            lambda: admin.unit_tree(ctx, actor),
            lambda: admin.user_list(ctx, actor),
            lambda: admin.get_unit(ctx, actor, unit(ctx, "VPS").id),
            lambda: admin.get_user(ctx, actor, user(ctx, "vps.head").id),
        ):
            with pytest.raises(PermissionDenied):
                call()
    for call in (
        lambda ctx: admin.create_unit(
            ctx, user(ctx, who), code="NEW", name="Phòng mới", parent_id=unit(ctx, "SKHCN").id
        ),
        lambda ctx: admin.add_alias(ctx, user(ctx, who), unit(ctx, "VPS").id, "VP Sở mới"),
        lambda ctx: admin.create_user(
            ctx,
            user(ctx, who),
            username="new.one",
            full_name="Người mới",
            role="unit_head",
            unit_id=unit(ctx, "VPS").id,
            password=PASSWORD,
        ),
        lambda ctx: admin.set_active(ctx, user(ctx, who), user(ctx, "stp.head").id, False),
        lambda ctx: admin.reset_password(ctx, user(ctx, who), user(ctx, "stp.head").id, PASSWORD),
    ):
        refused(organisation, PermissionDenied, "may not", call)


def test_the_office_of_another_organisation_reaches_nothing_here(organisation):
    def ward(ctx) -> User:
        return user(ctx, "vinhtuy.office")

    with organisation.context() as ctx:
        with pytest.raises(PermissionDenied, match="another organisation"):
            admin.get_unit(ctx, ward(ctx), unit(ctx, "VPS").id)
        with pytest.raises(PermissionDenied, match="another organisation"):
            admin.get_user(ctx, ward(ctx), user(ctx, "vps.head").id)
        with pytest.raises(NotFound):
            admin.get_unit(ctx, ward(ctx), 999_999)
    for call in (
        lambda ctx: admin.rename_unit(ctx, ward(ctx), unit(ctx, "VPS").id, "Tên khác"),
        lambda ctx: admin.create_unit(
            ctx, ward(ctx), code="NEW", name="Phòng mới", parent_id=unit(ctx, "SKHCN").id
        ),
        lambda ctx: admin.add_alias(ctx, ward(ctx), unit(ctx, "VPS").id, "VP Sở mới"),
        lambda ctx: admin.remove_alias(
            ctx, ward(ctx), unit(ctx, "QLKHCN").id, unit_alias(ctx, "QLKHCN").id
        ),
        lambda ctx: admin.delete_unit(ctx, ward(ctx), unit(ctx, "VPS").id),
        lambda ctx: admin.create_user(
            ctx,
            ward(ctx),
            username="new.one",
            full_name="Người mới",
            role="unit_head",
            unit_id=unit(ctx, "VPS").id,
            password=PASSWORD,
        ),
        lambda ctx: admin.set_active(ctx, ward(ctx), user(ctx, "vps.head").id, False),
        lambda ctx: admin.reset_password(ctx, ward(ctx), user(ctx, "vps.head").id, PASSWORD),
    ):
        refused(organisation, PermissionDenied, "another organisation", call)


def unit_alias(ctx, code: str) -> UnitAlias:
    return ctx.session.scalars(
        sa.select(UnitAlias).where(UnitAlias.unit_id == unit(ctx, code).id).order_by(UnitAlias.id)
    ).first()


# --- units ---------------------------------------------------------------------------------------


def test_the_office_creates_a_unit_in_its_organisation(organisation):
    with organisation.context() as ctx:
        created = admin.create_unit(
            ctx,
            user(ctx, "vps.office"),
            code=" qlcn ",
            name="Phòng  Quản lý Công nghệ",
            parent_id=unit(ctx, "SKHCN").id,
            kind="division",
        )
        assert (created.code, created.name, created.parent.code) == (
            "QLCN",
            "Phòng Quản lý Công nghệ",
            "SKHCN",
        )
        assert created.name_key == "phong quan ly cong nghe"
        found = UnitDirectory(ctx.session).resolve_phrase(
            "PHONG QUAN LY CONG NGHE", unit(ctx, "SKHCN")
        )
        assert found == [created]


def test_only_an_administrator_creates_a_new_organisation(organisation):
    refused(
        organisation,
        InvalidInput,
        "parent: required",
        lambda ctx: admin.create_unit(
            ctx, user(ctx, "vps.office"), code="HANOI", name="UBND Hà Nội", parent_id=None
        ),
    )
    with organisation.context() as ctx:
        top = admin.create_unit(
            ctx,
            user(ctx, "admin"),
            code="HANOI",
            name="UBND Hà Nội",
            parent_id=None,
            kind="province",
        )
        assert top.parent is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "a b"}, "code: 'A B' is not valid"),
        ({"code": "VPS"}, "code: 'VPS' is taken"),
        ({"name": "  "}, "name: required"),
        ({"name": "x" * 256}, "name: at most 255"),
        ({"kind": "ministry"}, "kind: 'ministry'"),
        ({"name": "Sở Tư pháp"}, "name: 'Sở Tư pháp' would be ambiguous.*Sở Tư pháp \\(STP\\)"),
        ({"name": "Phòng Quản lý KHCN"}, "name: .*an alias of Phòng Quản lý Khoa học"),
        ({"name": "Các phòng đơn vị thuộc Sở"}, "name: .*the group"),
        ({"code": "STC2", "name": "sở tài chính"}, "name: .*Sở Tài chính \\(STC\\)"),
        ({"parent_id": 999_999}, "parent: unit 999999 does not exist"),
    ],
)
def test_a_bad_unit_is_refused_naming_the_field(organisation, fields, message):
    def call(ctx):
        values = {"code": "NEW", "name": "Phòng mới", "parent_id": unit(ctx, "SKHCN").id}
        admin.create_unit(ctx, user(ctx, "vps.office"), **{**values, **fields})

    refused(organisation, InvalidInput, message, call)


def test_the_same_name_in_another_organisation_is_no_clash(organisation):
    with organisation.context() as ctx:
        created = admin.create_unit(
            ctx,
            user(ctx, "vinhtuy.office"),
            code="VTSTP",
            name="Sở Tư pháp",
            parent_id=unit(ctx, "VINHTUY").id,
        )
        assert created.parent.code == "VINHTUY"


def test_a_unit_is_renamed_unless_the_name_is_another_units(organisation):
    with organisation.context() as ctx:
        renamed = admin.rename_unit(
            ctx, user(ctx, "vps.office"), unit(ctx, "QLTDC").id, "Phòng Tiêu chuẩn Chất lượng"
        )
        assert renamed.name_key == "phong tieu chuan chat luong"
        # its own alias is no clash
        admin.rename_unit(ctx, user(ctx, "vps.office"), unit(ctx, "QLTDC").id, "Phòng Quản lý TĐC")
    for name, message in (
        ("Văn phòng Sở", "name: 'Văn phòng Sở' would be ambiguous.*Văn phòng Sở \\(VPS\\)"),
        ("", "name: required"),
    ):
        refused(
            organisation,
            InvalidInput,
            message,
            lambda ctx, name=name: admin.rename_unit(
                ctx, user(ctx, "vps.office"), unit(ctx, "QLTDC").id, name
            ),
        )


def test_a_unit_that_leads_tasks_is_never_deleted(make_plan, engine):
    make_plan([["1", "Việc một", "Văn phòng Sở", "", "6/2027"]])
    refused(
        engine,
        InvalidInput,
        "VPS cannot be deleted: it has 1 task",
        lambda ctx: admin.delete_unit(ctx, user(ctx, "vps.office"), unit(ctx, "VPS").id),
    )
    refused(
        engine,
        InvalidInput,
        "SKHCN cannot be deleted: .*unit\\(s\\) under it",
        lambda ctx: admin.delete_unit(ctx, user(ctx, "vps.office"), unit(ctx, "SKHCN").id),
    )
    with engine.context() as ctx:
        office = user(ctx, "vps.office")
        spare = admin.create_unit(
            ctx, office, code="SPARE", name="Phòng tạm", parent_id=unit(ctx, "SKHCN").id
        )
        admin.add_alias(ctx, office, spare.id, "Phòng tạm thời")
    with engine.context() as ctx:
        assert admin.delete_unit(ctx, user(ctx, "vps.office"), unit(ctx, "SPARE").id) == "SPARE"
    with engine.context() as ctx:
        assert ctx.session.scalar(sa.select(Unit).where(Unit.code == "SPARE")) is None
        assert (
            ctx.session.scalar(sa.select(UnitAlias).where(UnitAlias.key == "phong tam thoi"))
            is None
        )


# --- aliases -------------------------------------------------------------------------------------


def test_an_alias_is_added_in_the_parents_scope_and_the_importer_resolves_it(organisation):
    with organisation.context() as ctx:
        vps = unit(ctx, "VPS")
        row = admin.add_alias(ctx, user(ctx, "vps.office"), vps.id, " VP  Sở KH&CN ")
        assert (row.alias, row.key, row.scope_unit_id) == (
            "VP Sở KH&CN",
            "vp so khcn",
            vps.parent_id,
        )
        found = UnitDirectory(ctx.session).resolve_cell("Vp Sở KHCN", unit(ctx, "SKHCN"))
        assert found == [vps]
    with organisation.context() as ctx:
        removed = admin.remove_alias(ctx, user(ctx, "vps.office"), unit(ctx, "VPS").id, row.id)
        assert removed == "VP Sở KH&CN"
        assert ctx.session.get(UnitAlias, row.id) is None


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        (
            "Phòng Quản lý KH&CN",
            "alias: 'Phòng Quản lý KH&CN' would be ambiguous in Ủy ban nhân dân tỉnh Lai Châu: it is already an alias of Phòng Quản lý Khoa học và Công nghệ \\(QLKHCN\\)",
        ),
        ("phong quan ly khcn", "alias: 'phong quan ly khcn' would be ambiguous.*QLKHCN"),
        ("Sở Tư Pháp", "alias: 'Sở Tư Pháp' would be ambiguous.*the name of Sở Tư pháp \\(STP\\)"),
        ("stp", "alias: 'stp' would be ambiguous.*\\(STP\\)"),
        ("UBND tỉnh", "alias: .*an alias of Ủy ban nhân dân tỉnh Lai Châu \\(LAICHAU\\)"),
        ("Các phòng, đơn vị", "alias: .*a phrase of the group"),
        ("Các sở, ban, ngành tỉnh", "alias: .*the group 'Các sở, ban, ngành tỉnh'"),
        ("Văn phòng Sở", "alias: 'Văn phòng Sở' is already a name of Văn phòng Sở \\(VPS\\)"),
        ("Văn phòng", "alias: 'Văn phòng' is already a name of Văn phòng Sở"),
        ("  ", "alias: required"),
        ("–", "alias: required"),
    ],
)
def test_an_ambiguous_alias_is_refused_naming_it(organisation, alias, message):
    refused(
        organisation,
        InvalidInput,
        message,
        lambda ctx: admin.add_alias(ctx, user(ctx, "vps.office"), unit(ctx, "VPS").id, alias),
    )


def test_an_alias_used_in_another_organisation_is_no_clash(organisation):
    with organisation.context() as ctx:
        row = admin.add_alias(
            ctx, user(ctx, "vinhtuy.office"), unit(ctx, "VHXH").id, "Phòng Tổng hợp"
        )
        assert row.unit.code == "VHXH"
        assert UnitDirectory(ctx.session).resolve_phrase(
            "Phòng Tổng hợp", unit(ctx, "VINHTUY")
        ) == [unit(ctx, "VHXH")]


def test_only_an_administrator_changes_the_aliases_of_a_top_level_unit(organisation):
    """They are read in every organisation: the Office of Lai Châu naming its province
    "Phòng Tư pháp" would make a plan of Vĩnh Tuy ward with that lead unit led in Lai Châu."""
    refused(
        organisation,
        PermissionDenied,
        "may not change the aliases of LAICHAU",
        lambda ctx: admin.add_alias(
            ctx, user(ctx, "vps.office"), unit(ctx, "LAICHAU").id, "Phòng Tư pháp"
        ),
    )
    refused(
        organisation,
        PermissionDenied,
        "may not change the aliases of LAICHAU",
        lambda ctx: admin.remove_alias(
            ctx, user(ctx, "vps.office"), unit(ctx, "LAICHAU").id, unit_alias(ctx, "LAICHAU").id
        ),
    )
    with organisation.context() as ctx:
        row = admin.add_alias(ctx, user(ctx, "admin"), unit(ctx, "LAICHAU").id, "Tỉnh Lai Châu")
        assert row.scope_unit_id is None


def test_an_alias_is_removed_only_through_its_own_unit(organisation):
    refused(
        organisation,
        NotFound,
        "is not an alias of VPS",
        lambda ctx: admin.remove_alias(
            ctx, user(ctx, "vps.office"), unit(ctx, "VPS").id, unit_alias(ctx, "QLKHCN").id
        ),
    )


# --- accounts ------------------------------------------------------------------------------------


def test_the_office_creates_an_account_that_can_sign_in(organisation):
    with organisation.context() as ctx:
        account = admin.create_user(
            ctx,
            user(ctx, "vps.office"),
            username="qltdc.delegate",
            full_name=" Lò  Văn Nam ",
            role="unit_delegate",
            unit_id=unit(ctx, "QLTDC").id,
            email="nam@example.gov.vn",
            password=PASSWORD,
        )
        assert (account.full_name, account.unit.code, account.active) == (
            "Lò Văn Nam",
            "QLTDC",
            True,
        )
    with organisation.context() as ctx:
        assert accounts.sign_in(ctx, "qltdc.delegate", PASSWORD).user is not None


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"username": "x y"}, InvalidInput, "username: 'x y' is not valid: 2 to 64 lower-case"),
        ({"username": "Upper"}, InvalidInput, "username: 'Upper' is not valid"),
        ({"username": "vps.head"}, InvalidInput, "username: 'vps.head' is taken"),
        ({"full_name": " "}, InvalidInput, "display name: required"),
        ({"role": "boss"}, InvalidInput, "role: 'boss' is not one of"),
        ({"role": "admin"}, PermissionDenied, "may not create an account with the role admin"),
        ({"unit": None}, InvalidInput, "unit: required for the role unit_head"),
        ({"role": "office", "unit": None}, InvalidInput, "unit: required for the role office"),
        ({"unit": "VHXH"}, PermissionDenied, "another organisation"),
        ({"password": "ngan"}, InvalidInput, "password: at least 10"),
        ({"password": "new.one-mat-khau"}, InvalidInput, "password: must not contain the username"),
        ({"email": "not an address"}, InvalidInput, "email: 'not an address'"),
    ],
)
def test_a_bad_account_is_refused_naming_the_field(organisation, fields, error, message):
    def call(ctx):
        values = {
            "username": "new.one",
            "full_name": "Người Mới",
            "role": "unit_head",
            "unit": "VPS",
            "password": PASSWORD,
            **fields,
        }
        code = values.pop("unit")
        admin.create_user(
            ctx,
            user(ctx, "vps.office"),
            unit_id=unit(ctx, code).id if code else None,
            **values,
        )

    refused(organisation, error, message, call)


def test_an_administrator_creates_an_administrator(organisation):
    with organisation.context() as ctx:
        made = admin.create_user(
            ctx,
            user(ctx, "admin"),
            username="admin2",
            full_name="Quản trị hai",
            role="admin",
            unit_id=None,
            password=PASSWORD,
        )
        assert made.role == "admin" and made.unit is None
        assert admin.assignable_roles(user(ctx, "vps.office")) == (
            "unit_head",
            "unit_delegate",
            "office",
            "leadership",
        )


def test_deactivating_ends_the_sessions_and_reactivating_lets_the_password_in(organisation):
    with organisation.context() as ctx:
        head = user(ctx, "stp.head")
        accounts.set_password(ctx, head, PASSWORD)
        token = head.session_token
    with organisation.context() as ctx:
        admin.set_active(ctx, user(ctx, "vps.office"), user(ctx, "stp.head").id, False)
    with organisation.context() as ctx:
        assert accounts.by_session_token(ctx, token) is None
        assert accounts.sign_in(ctx, "stp.head", PASSWORD).failure == accounts.WRONG
        assert not user(ctx, "stp.head").active
    with organisation.context() as ctx:
        admin.set_active(ctx, user(ctx, "vps.office"), user(ctx, "stp.head").id, True)
    with organisation.context() as ctx:
        assert accounts.by_session_token(ctx, token) is None  # the old cookie stays dead
        assert accounts.sign_in(ctx, "stp.head", PASSWORD).user is not None


def test_nobody_deactivates_themselves_and_the_office_never_touches_an_administrator(organisation):
    refused(
        organisation,
        InvalidInput,
        "account: you cannot deactivate your own account",
        lambda ctx: admin.set_active(
            ctx, user(ctx, "vps.office"), user(ctx, "vps.office").id, False
        ),
    )
    for call in (
        lambda ctx: admin.set_active(ctx, user(ctx, "vps.office"), user(ctx, "admin").id, False),
        lambda ctx: admin.reset_password(
            ctx, user(ctx, "vps.office"), user(ctx, "admin").id, PASSWORD
        ),
    ):
        refused(organisation, PermissionDenied, "an administrator's", call)


def test_a_reset_password_ends_the_sessions_and_lifts_a_lock(organisation, clock):
    with organisation.context() as ctx:
        head = user(ctx, "stp.head")
        head.session_token, head.locked_until = "old-token", clock.now() + timedelta(minutes=10)
    refused(
        organisation,
        InvalidInput,
        "password: at least 10",
        lambda ctx: admin.reset_password(
            ctx, user(ctx, "vps.office"), user(ctx, "stp.head").id, "ngan"
        ),
    )
    with organisation.context() as ctx:
        admin.reset_password(ctx, user(ctx, "vps.office"), user(ctx, "stp.head").id, PASSWORD)
    with organisation.context() as ctx:
        assert accounts.by_session_token(ctx, "old-token") is None
        assert accounts.sign_in(ctx, "stp.head", PASSWORD).user is not None


# --- a fixed number of queries -------------------------------------------------------------------


def _statements(engine, call) -> int:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(engine.database.engine, "before_cursor_execute", count)
    try:
        with engine.context() as ctx:
            call(ctx)
    finally:
        sa.event.remove(engine.database.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_listings_run_a_fixed_number_of_queries(make_plan, engine):
    make_plan([["1", "Việc một", "Văn phòng Sở", "Phòng Quản lý KH&CN", "6/2027"]])

    def listings(ctx) -> None:
        office = user(ctx, "vps.office")
        admin.unit_tree(ctx, office)
        admin.user_list(ctx, office)

    few = _statements(engine, listings)
    with engine.context() as ctx:
        office = user(ctx, "vps.office")
        for i in range(12):
            made = admin.create_unit(
                ctx, office, code=f"P{i}", name=f"Phòng số {i}", parent_id=unit(ctx, "SKHCN").id
            )
            admin.add_alias(ctx, office, made.id, f"Phòng thứ {i}")
            admin.create_user(
                ctx,
                office,
                username=f"p{i}.head",
                full_name=f"Trưởng phòng {i}",
                role="unit_head",
                unit_id=made.id,
            )
    assert _statements(engine, listings) == few


# --- the command line ----------------------------------------------------------------------------


def test_the_command_line_adds_accounts_through_the_same_service(tmp_path: Path):
    from tests.test_cli import nhiemvu

    assert nhiemvu(tmp_path, "init").returncode == 0
    made = nhiemvu(tmp_path, "user", "add", "root", "--name", "Quản trị", "--role", "admin")
    assert made.returncode == 0, made.stderr
    assert "user root (admin) created" in made.stdout
    for args, message in (
        (["x y", "--role", "office"], "error: username: 'x y' is not valid"),
        (["root", "--role", "office"], "error: username: 'root' is taken"),
        (["a.head", "--role", "unit_head"], "error: unit: required for the role unit_head"),
    ):
        result = nhiemvu(tmp_path, "user", "add", *args, "--name", "Ai đó")
        assert result.returncode == 1 and result.stderr.startswith(message), result.stderr
