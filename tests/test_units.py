"""Unit names as plans write them, the folding that makes them comparable, and the
organisation file that defines units, aliases, groups and users."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DEMO_ORGANISATION, user
from workflow.context import Engine
from workflow.errors import ImportFailed, PermissionDenied
from workflow.models import Unit, UnitAlias, UnitGroup, User, unit_group_members
from workflow.organisation import load_organisation
from workflow.text import fold, fold_key
from workflow.units import UnitDirectory, UnresolvedName


def demo_data() -> dict:
    return tomllib.loads(DEMO_ORGANISATION.read_text(encoding="utf-8"))


def codes(units: list[Unit]) -> list[str]:
    return [u.code for u in units]


def resolve(engine: Engine, text: str, scope: str | None = None) -> list[str]:
    with engine.context(write=False) as ctx:
        directory = UnitDirectory(ctx.session)
        scope_unit = None
        if scope is not None:
            scope_unit = ctx.session.scalar(sa.select(Unit).where(Unit.code == scope))
        return codes(directory.resolve_cell(text, scope_unit))


@dataclass
class Unresolved:
    phrase: str
    candidates: list[str]
    message: str


def unresolved(engine: Engine, text: str, scope: str | None = None) -> Unresolved:
    with engine.context(write=False) as ctx:
        scope_unit = None
        if scope is not None:
            scope_unit = ctx.session.scalar(sa.select(Unit).where(Unit.code == scope))
        with pytest.raises(UnresolvedName) as excinfo:
            UnitDirectory(ctx.session).resolve_cell(text, scope_unit)
        error = excinfo.value
        return Unresolved(error.phrase, codes(error.candidates), str(error))


def load(engine: Engine, data: dict, source: str = "units.toml"):
    """Load as the administrator once there is one (the first load sets the instance up)."""
    with engine.context() as ctx:
        admin = ctx.session.scalar(sa.select(User).where(User.username == "admin"))
        return load_organisation(ctx.session, data, source, admin)


# --- resolving names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "Phòng Quản lý KH&CN",
        "Phòng Quản lý KHCN",
        "PHONG QUAN LY KHCN",
        "phòng quản lý khcn",
        "Phòng Quản lý Khoa học và Công nghệ",
        "  Phòng  Quản lý   KH&CN. ",
    ],
)
def test_one_unit_under_many_spellings(organisation: Engine, spelling: str) -> None:
    assert resolve(organisation, spelling, "SKHCN") == ["QLKHCN"]
    assert resolve(organisation, spelling) == ["QLKHCN"]


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("Sở KH&CN", "SKHCN"),
        ("Sở Khoa học và Công nghệ tỉnh Lai Châu", "SKHCN"),
        ("Trung tâm Kiểm định và Phát triển KHCN", "TTKD"),
        ("Trung tâm Kiểm định và Phát triển khoa học công nghệ", "TTKD"),
        ("Phòng HCQT", "HCQT"),
        ("Phòng Hành chính - Quản trị", "HCQT"),  # ASCII hyphen for the printed en dash
        ("Phòng Hành chính — Quản trị", "HCQT"),  # the OCR's em dash
        ("UBND phường Tân Phong", "TANPHONG"),
        ("Sở GD&ĐT", "SGDDT"),
        ("SKHCN", "SKHCN"),  # a unit's code is one of its names
        ("Báo và Phát thanh, Truyền hình Lai Châu", "BAOLC"),  # a name holding a comma
    ],
)
def test_aliases_and_codes(organisation: Engine, spelling: str, code: str) -> None:
    assert resolve(organisation, spelling, "LAICHAU") == [code]


def test_a_cell_naming_two_units(organisation: Engine) -> None:
    cell = "Phòng Quản lý KHCN, phòng Quản lý TĐC"
    assert resolve(organisation, cell, "SKHCN") == ["QLKHCN", "QLTDC"]
    assert resolve(organisation, "Phòng Quản lý TĐC; Phòng Quản lý KHCN", "SKHCN") == [
        "QLTDC",
        "QLKHCN",
    ]
    # A unit named twice is linked once.
    assert resolve(organisation, "Văn phòng Sở, Văn phòng Sở Khoa học và Công nghệ") == ["VPS"]


def test_names_with_commas_next_to_other_names(organisation: Engine) -> None:
    cell = "Sở Khoa học và Công nghệ, Sở Văn hóa, Thể thao và Du lịch"
    assert resolve(organisation, cell, "LAICHAU") == ["SKHCN", "SVHTTDL"]


def test_group_phrase_with_commas_expands_to_its_members(organisation: Engine) -> None:
    members = ["VPS", "QLKHCN", "QLTDC", "TTKD"]
    assert resolve(organisation, "Các phòng, đơn vị thuộc Sở", "SKHCN") == members
    assert resolve(organisation, "Các phòng đơn vị", "SKHCN") == members
    assert resolve(organisation, "Các phòng, đơn vị", "SKHCN") == members
    # With another name after it, and deeper in the Department's tree.
    assert resolve(organisation, "Các phòng, đơn vị thuộc Sở; Sở Tư pháp", "VPS") == [
        *members,
        "STP",
    ]


def test_group_phrases_of_the_province(organisation: Engine) -> None:
    assert resolve(organisation, "Các sở, ban, ngành tỉnh; UBND xã, phường", "LAICHAU") == [
        "VPUBND",
        "SKHCN",
        "STP",
        "SVHTTDL",
        "SGDDT",
        "STC",
        "TANPHONG",
        "DOANKET",
        "BINHLU",
    ]
    assert resolve(organisation, "Các phòng, ban, trung tâm", "VPUBND") == [
        "HCQT",
        "VPTH",
        "VPKT",
        "KGVX",
        "TTCB",
    ]


def test_the_same_phrase_means_each_scopes_own_units(organisation: Engine) -> None:
    data = demo_data()
    data["groups"].append(
        {
            "scope": "VINHTUY",
            "name": "Các phòng, đơn vị thuộc phường",
            "phrases": ["Các phòng, đơn vị"],
            "members": ["VHXH", "VTVP", "VTKTHT", "VTTTVH"],
        }
    )
    load(organisation, data)
    assert resolve(organisation, "Các phòng, đơn vị", "SKHCN") == ["VPS", "QLKHCN", "QLTDC", "TTKD"]
    assert resolve(organisation, "Các phòng, đơn vị", "VINHTUY") == [
        "VHXH",
        "VTVP",
        "VTKTHT",
        "VTTTVH",
    ]
    assert resolve(organisation, "Các phòng đơn vị", "VINHTUY") == [
        "VHXH",
        "VTVP",
        "VTKTHT",
        "VTTTVH",
    ]


def test_a_group_phrase_does_not_leak_into_another_scope(organisation: Engine) -> None:
    error = unresolved(organisation, "Các phòng, đơn vị thuộc Sở", "VINHTUY")
    assert error.candidates == []
    assert "Các phòng" in error.message
    error = unresolved(organisation, "Các phòng, ban, trung tâm", "SKHCN")
    assert error.candidates == []


def test_van_phong_is_the_departments_office_in_its_scope(organisation: Engine) -> None:
    assert resolve(organisation, "Văn phòng", "SKHCN") == ["VPS"]
    assert resolve(organisation, "Văn phòng", "QLKHCN") == ["VPS"]  # scope climbs to the parent
    assert resolve(organisation, "Văn phòng Sở") == ["VPS"]
    assert resolve(organisation, "Văn phòng UBND tỉnh", "LAICHAU") == ["VPUBND"]


def test_ward_names_in_the_wards_scope(organisation: Engine) -> None:
    assert resolve(organisation, "Các phòng, ban, đơn vị liên quan; Các tổ dân phố", "VINHTUY") == [
        "VTVP",
        "VTKTHT",
        "VTTTVH",
        "VTTDP1",
        "VTTDP2",
        "VTTDP3",
    ]
    assert resolve(organisation, "Phòng Văn hóa - Xã hội phường", "VINHTUY") == ["VHXH"]


def test_an_unknown_name_names_the_piece_not_resolved(organisation: Engine) -> None:
    error = unresolved(organisation, "Phòng Quản lý KHCN, Phòng Không Có", "SKHCN")
    assert error.phrase == "Phòng Không Có"
    assert error.message == "unknown unit 'Phòng Không Có'"
    assert error.candidates == []

    error = unresolved(organisation, "Phòng  Không Có; Văn phòng Sở", "SKHCN")
    assert error.phrase == "Phòng Không Có"

    error = unresolved(organisation, "Văn phòng Sở, Phòng Ma, Phòng Quản lý TĐC", "SKHCN")
    assert error.phrase == "Phòng Ma"


def test_an_ambiguous_name_lists_its_candidates(organisation: Engine) -> None:
    data = demo_data()
    data["units"] += [
        {"code": "TAMDUONG", "name": "Ủy ban nhân dân xã Tam Đường", "kind": "commune"},
        {
            "code": "TDVHXH",
            "name": "Phòng Văn hóa - Xã hội",
            "kind": "department",
            "parent": "TAMDUONG",
        },
    ]
    load(organisation, data)
    error = unresolved(organisation, "Phòng Văn hóa - Xã hội")
    assert error.candidates == ["TDVHXH", "VHXH"]
    message = error.message
    assert "ambiguous" in message
    assert "(TDVHXH)" in message and "(VHXH)" in message
    # Within a cell of several names, the ambiguous piece is the one reported.
    error = unresolved(organisation, "Sở Tư pháp, PHONG VAN HOA XA HOI")
    assert error.phrase == "PHONG VAN HOA XA HOI"
    assert error.candidates == ["TDVHXH", "VHXH"]
    # Its code, or an alias, still names it.
    assert resolve(organisation, "VHXH") == ["VHXH"]
    assert resolve(organisation, "Phòng VHXH", "VINHTUY") == ["VHXH"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Phòng Quản lý\nTiêu chuẩn Đo lường\nChất lượng", ["QLTDC"]),
        ("Trung tâm Kiểm định và\r\nPhát triển KH&CN", ["TTKD"]),
        ("Trung tam Kiem dinh va Phat trien KH&CN", ["TTKD"]),
        ("So Tu phap", ["STP"]),
        ("VAN PHONG SO", ["VPS"]),
        ("Phong Quan ly KHCN, phong Quan ly TDC", ["QLKHCN", "QLTDC"]),
        ("Cac phong, don vi thuoc So", ["VPS", "QLKHCN", "QLTDC", "TTKD"]),
        (unicodedata.normalize("NFD", "Phòng Quản lý TĐC"), ["QLTDC"]),
    ],
)
def test_line_breaks_and_missing_diacritics(
    organisation: Engine, text: str, expected: list[str]
) -> None:
    assert resolve(organisation, text, "SKHCN") == expected


def test_an_empty_cell_names_no_unit(organisation: Engine) -> None:
    assert resolve(organisation, "", "SKHCN") == []
    assert resolve(organisation, " ; , \n", "SKHCN") == []


# --- folding --------------------------------------------------------------------------------


def test_fold_examples() -> None:
    assert fold("Đ") == "d"
    assert fold("đ") == "d"
    assert fold("Đoàn Kết") == "doan ket"
    assert fold("THƯỜNG XUYÊN") == "thuong xuyen"
    assert fold("Hằng năm") == fold("Hàng năm") == "hang nam"
    assert fold_key("Phòng Quản lý KH&CN") == "phong quan ly khcn"
    assert fold_key("PHONG QUAN LY KHCN") == "phong quan ly khcn"
    assert fold_key("Phòng Hành chính – Quản trị") == fold_key("Phòng Hành chính - Quản trị")
    assert fold_key("Các phòng, đơn vị") == fold_key("Các phòng đơn vị") == "cac phong don vi"
    assert fold_key("Sở GD&ĐT") == "so gddt"
    assert fold_key(None) == "" and fold_key("  ") == ""


VIETNAMESE = st.text(
    alphabet=st.sampled_from(
        "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ"
        "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
        "ÁÀẢÃẠẮẰẲẴẶẤẦẨẪẬÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ"
        " ,;.&-–/()\n\t0123456789"
    )
)


@given(st.text())
def test_fold_keeps_the_length_of_any_text(text: str) -> None:
    assert len(fold(text)) == len(text)


VIETNAMESE_WORDS = st.text(
    alphabet=st.sampled_from(
        "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ"
        "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
        "ÁÀẢÃẠẮẰẲẴẶẤẦẨẪẬÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ "
    )
)


@given(VIETNAMESE_WORDS)
def test_fold_of_vietnamese_is_plain_lower_case_ascii(text: str) -> None:
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded.isascii()
    assert folded == folded.lower()


@given(VIETNAMESE)
def test_fold_key_ignores_case_diacritics_and_normal_form(text: str) -> None:
    key = fold_key(text)
    assert fold_key(key) == key
    assert fold_key(text.upper()) == key
    assert fold_key(fold(text)) == key
    assert fold_key(unicodedata.normalize("NFD", text)) == key
    assert key == key.strip() and "  " not in key
    assert set(key) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ")


# --- the organisation file ------------------------------------------------------------------


def snapshot(engine: Engine) -> dict[str, object]:
    with engine.context(write=False) as ctx:
        s = ctx.session
        return {
            "units": sorted(s.execute(sa.select(Unit.id, Unit.code, Unit.parent_id)).all()),
            "aliases": sorted(
                s.execute(
                    sa.select(UnitAlias.id, UnitAlias.key, UnitAlias.unit_id, UnitAlias.group_id)
                ).all()
            ),
            "groups": sorted(s.execute(sa.select(UnitGroup.id, UnitGroup.name_key)).all()),
            "members": sorted(s.execute(sa.select(unit_group_members)).all()),
            "users": sorted(s.execute(sa.select(User.id, User.username, User.unit_id)).all()),
        }


def test_loading_the_organisation_twice_changes_nothing(engine: Engine) -> None:
    first = load(engine, demo_data())
    assert (first.units, first.groups, first.users) == (30, 9, 27)
    assert len(first.changed) == 30
    before = snapshot(engine)
    assert len(before["units"]) == 30
    assert len(before["groups"]) == 9
    assert len(before["users"]) == 27

    again = load(engine, demo_data())

    assert (again.units, again.groups, again.users) == (30, 9, 27)
    assert again.changed == []
    assert snapshot(engine) == before


def test_reloading_an_edited_organisation_updates_in_place(organisation: Engine) -> None:
    before = snapshot(organisation)
    data = demo_data()
    for entry in data["units"]:
        if entry["code"] == "QLTDC":
            entry["name"] = "Phòng Tiêu chuẩn Đo lường Chất lượng"
    load(organisation, data)
    assert snapshot(organisation)["units"] == before["units"]
    assert resolve(organisation, "Phong Tieu chuan Do luong Chat luong", "SKHCN") == ["QLTDC"]
    assert resolve(organisation, "Phòng Quản lý TĐC", "SKHCN") == ["QLTDC"]


def _unit(data: dict, code: str) -> tuple[int, dict]:
    for index, entry in enumerate(data["units"], 1):
        if entry["code"] == code:
            return index, entry
    raise AssertionError(code)


def _bad_kind(data: dict) -> str:
    index, entry = _unit(data, "QLTDC")
    entry["kind"] = "ministry"
    return f"units[{index}]: kind 'ministry' is not one of"


def _unknown_parent(data: dict) -> str:
    index, entry = _unit(data, "TTKD")
    entry["parent"] = "SKHCNN"
    return f"units[{index}] (TTKD): parent 'SKHCNN'"


def _missing_name(data: dict) -> str:
    index, entry = _unit(data, "STP")
    del entry["name"]
    return f"units[{index}]: name is required"


def _unknown_member(data: dict) -> str:
    data["groups"][1]["members"].append("TTCBB")
    return "groups[2] (Các phòng, ban, trung tâm): members: 'TTCBB' is not a unit code"


def _unknown_scope(data: dict) -> str:
    data["groups"][3]["scope"] = "LAICAU"
    return "groups[4] (UBND xã, phường): scope: 'LAICAU' is not a unit code"


def _unknown_role(data: dict) -> str:
    data["users"][2]["role"] = "director"
    return "users[3]: role 'director' is not one of"


def _unknown_user_unit(data: dict) -> str:
    data["users"][4]["unit"] = "HCQTT"
    return "users[5] (hcqt.office): unit 'HCQTT' is not a unit code"


BAD_ORGANISATIONS = {
    "bad kind": _bad_kind,
    "unknown parent": _unknown_parent,
    "missing name": _missing_name,
    "unknown group member": _unknown_member,
    "unknown group scope": _unknown_scope,
    "unknown role": _unknown_role,
    "unknown user unit": _unknown_user_unit,
}


@pytest.mark.parametrize("case", list(BAD_ORGANISATIONS))
def test_a_bad_organisation_file_writes_nothing(engine: Engine, case: str) -> None:
    data = demo_data()
    problem = BAD_ORGANISATIONS[case](data)
    with pytest.raises(ImportFailed) as excinfo:
        load(engine, data, "don-vi.toml")
    assert excinfo.value.source == "don-vi.toml"
    assert any(p.startswith(problem) for p in excinfo.value.problems), excinfo.value.problems
    assert "don-vi.toml" in str(excinfo.value)
    assert snapshot(engine) == {
        "units": [],
        "aliases": [],
        "groups": [],
        "members": [],
        "users": [],
    }


def test_a_bad_organisation_file_leaves_the_loaded_one_alone(organisation: Engine) -> None:
    before = snapshot(organisation)
    data = demo_data()
    _, entry = _unit(data, "QLTDC")
    entry["name"] = "Phòng Đổi tên"
    data["units"].append({"code": "MOI", "name": "Phòng Mới", "kind": "division"})
    data["users"].append({"username": "moi", "full_name": "Người Mới", "role": "boss"})
    with pytest.raises(ImportFailed):
        load(organisation, data)
    assert snapshot(organisation) == before
    assert resolve(organisation, "Phòng Quản lý Tiêu chuẩn Đo lường Chất lượng") == ["QLTDC"]


def test_every_problem_of_an_organisation_file_is_reported(engine: Engine) -> None:
    data = demo_data()
    expected = [_bad_kind(data), _unknown_parent(data), _unknown_role(data)]
    with pytest.raises(ImportFailed) as excinfo:
        load(engine, data)
    for problem in expected:
        assert any(p.startswith(problem) for p in excinfo.value.problems), problem
    assert len(excinfo.value.problems) == 3


def test_a_ward_plan_never_names_a_unit_of_the_province(organisation: Engine) -> None:
    with organisation.context() as ctx:
        directory = UnitDirectory(ctx.session)
        ward = ctx.session.scalar(sa.select(Unit).where(Unit.code == "VINHTUY"))
        for name in ("Sở Khoa học và Công nghệ", "Văn phòng"):
            with pytest.raises(UnresolvedName):
                directory.resolve_cell(name, ward)


def test_only_someone_who_manages_units_and_users_may_load_an_organisation(
    organisation: Engine,
) -> None:
    data = {"users": [{"username": "new.admin", "full_name": "Quản trị mới", "role": "admin"}]}
    for username in ("qlkhcn.delegate", "skhcn.director"):
        with pytest.raises(PermissionDenied), organisation.context() as ctx:
            load_organisation(ctx.session, data, "x.toml", user(ctx, username))
    with pytest.raises(PermissionDenied), organisation.context() as ctx:
        load_organisation(ctx.session, data, "x.toml", None)  # accounts exist: no anonymous load
    with organisation.context() as ctx:
        assert ctx.session.scalar(sa.select(User).where(User.username == "new.admin")) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["units"][0].update(alias=["X"]), "units[1]: unknown key 'alias'"),
        (lambda d: d["users"][0].update(username="Bad Name"), "users[1]: username 'Bad Name'"),
        (lambda d: d["units"][0].update(aliases="Sở"), "units[1]: aliases must be a list of texts"),
        (
            lambda d: d["units"][0].update(code="laichau province"),
            "units[1]: code 'laichau province'",
        ),
    ],
)
def test_an_organisation_file_names_mistyped_keys(engine: Engine, change, problem: str) -> None:
    data = demo_data()
    change(data)
    with pytest.raises(ImportFailed) as refused:
        load(engine, data, "don-vi.toml")
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems
