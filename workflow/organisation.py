"""Load an organisation file (units, aliases, groups, users) — TOML, idempotent, all-or-nothing.

```toml
[[units]]
code = "SKHCN"
name = "Sở Khoa học và Công nghệ"
kind = "department"
parent = "LAICHAU"
aliases = ["Sở KH&CN"]          # scoped to the parent

[[groups]]
scope = "SKHCN"
name = "Các phòng, đơn vị thuộc Sở"
phrases = ["Các phòng đơn vị"]
members = ["VPS", "QLKHCN"]

[[users]]
username = "vps.head"
full_name = "Nguyễn Văn A"
role = "unit_head"
unit = "VPS"
email = "vps.head@example.gov.vn"
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.errors import ImportFailed
from workflow.messages import N_
from workflow.models import ROLES, UNIT_KINDS, Unit, UnitAlias, UnitGroup, User
from workflow.permissions import Action, require
from workflow.text import clean, fold_key


@dataclass
class OrganisationResult:
    units: int = 0
    groups: int = 0
    users: int = 0
    changed: list[str] = field(default_factory=list)


CODE = re.compile(r"[A-Z0-9][A-Z0-9_]{0,31}")
CODE_RULE = N_("1 to 32 upper-case letters, digits or '_'")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
USERNAME_RULE = N_("2 to 64 lower-case letters, digits, '.', '_' or '-'")
ENTRY_KEYS = {
    "units": {"code", "name", "kind", "parent", "aliases"},
    "groups": {"scope", "name", "phrases", "members"},
    "users": {"username", "full_name", "role", "unit", "email"},
}


def load_organisation(
    session: Session, data: dict[str, Any], source: str, actor: User | None
) -> OrganisationResult:
    """Load units, groups and users. Needs the rights to manage units (and users, if any are
    listed); only the very first load, into an instance with no account yet, needs no actor:
    it is how an instance is set up."""
    _authorise(session, data, actor)
    problems: list[str] = []
    known = set(session.scalars(sa.select(Unit.code)))
    _validate(data, known, problems)
    if problems:
        raise ImportFailed(source, problems)
    result = OrganisationResult()
    by_code = {u.code: u for u in session.scalars(sa.select(Unit))}
    for entry in data.get("units", []):
        _upsert_unit(session, entry, by_code, result)
    session.flush()
    for entry in data.get("units", []):
        unit = by_code[entry["code"]]
        for alias in entry.get("aliases", []):
            _ensure_alias(session, alias_scope(unit), alias, unit_id=unit.id)
    for entry in data.get("groups", []):
        _upsert_group(session, entry, by_code, result)
    for entry in data.get("users", []):
        _upsert_user(session, entry, by_code, result)
    session.flush()
    return result


def _authorise(session: Session, data: dict[str, Any], actor: User | None) -> None:
    if actor is None and session.scalar(sa.select(User.id).limit(1)) is None:
        return
    if data.get("units") or data.get("groups"):
        require(actor, Action.MANAGE_UNITS)
    if data.get("users"):
        require(actor, Action.MANAGE_USERS)


def _check_entry_keys(data: dict[str, Any], problems: list[str]) -> None:
    for table, allowed in ENTRY_KEYS.items():
        entries = data.get(table, [])
        if not isinstance(entries, list):
            problems.append(f"{table}: expected a list of [[{table}]] tables")
            continue
        for i, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                continue
            for key in sorted(set(entry) - allowed):
                problems.append(
                    f"{table}[{i}]: unknown key {key!r} (expected one of: {', '.join(sorted(allowed))})"
                )
            for key in ("aliases", "phrases", "members"):
                value = entry.get(key, [])
                if key in allowed and not (
                    isinstance(value, list) and all(isinstance(x, str) for x in value)
                ):
                    problems.append(f"{table}[{i}]: {key} must be a list of texts")


def _validate(data: dict[str, Any], known_codes: set[str], problems: list[str]) -> None:
    """Check everything before writing; a code may name a unit of the file or one already here."""
    unknown = set(data) - {"units", "groups", "users"}
    if unknown:
        problems.append(f"unknown table {sorted(unknown)[0]!r} (expected units, groups, users)")
    _check_entry_keys(data, problems)
    if problems:
        return
    codes = known_codes | {e.get("code") for e in data.get("units", []) if isinstance(e, dict)}
    for i, entry in enumerate(data.get("units", []), 1):
        where = f"units[{i}]"
        _require_str(entry, where, ("code", "name", "kind"), problems)
        if isinstance(entry.get("code"), str) and not CODE.fullmatch(entry["code"]):
            problems.append(f"{where}: code {entry['code']!r}: {CODE_RULE}")
        if entry.get("kind") not in UNIT_KINDS:
            problems.append(
                f"{where}: kind {entry.get('kind')!r} is not one of {', '.join(UNIT_KINDS)}"
            )
        if "parent" in entry and entry["parent"] not in codes:
            problems.append(
                f"{where} ({entry.get('code')}): parent {entry['parent']!r} is not a unit code"
            )
    for i, entry in enumerate(data.get("groups", []), 1):
        where = f"groups[{i}]"
        _require_str(entry, where, ("scope", "name"), problems)
        if entry.get("scope") not in codes:
            problems.append(
                f"{where} ({entry.get('name')}): scope: {entry.get('scope')!r} is not a unit code"
            )
        for code in entry.get("members", []):
            if code not in codes:
                problems.append(
                    f"{where} ({entry.get('name')}): members: {code!r} is not a unit code"
                )
    for i, entry in enumerate(data.get("users", []), 1):
        where = f"users[{i}]"
        _require_str(entry, where, ("username", "full_name", "role"), problems)
        if isinstance(entry.get("username"), str) and not USERNAME.fullmatch(entry["username"]):
            problems.append(f"{where}: username {entry['username']!r}: {USERNAME_RULE}")
        if entry.get("role") not in ROLES:
            problems.append(f"{where}: role {entry.get('role')!r} is not one of {', '.join(ROLES)}")
        if entry.get("unit") is not None and entry["unit"] not in codes:
            problems.append(
                f"{where} ({entry.get('username')}): unit {entry['unit']!r} is not a unit code"
            )


def _require_str(entry: Any, where: str, keys: tuple[str, ...], problems: list[str]) -> None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: expected a table")
        return
    for key in keys:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            problems.append(f"{where}: {key} is required (text)")


def alias_scope(unit: Unit) -> int | None:
    """Where a unit's aliases are meaningful: among its parent's units (top level: everywhere)."""
    return unit.parent_id


def _upsert_unit(
    session: Session, entry: dict, by_code: dict[str, Unit], result: OrganisationResult
) -> None:
    unit = by_code.get(entry["code"])
    if unit is None:
        unit = Unit(code=entry["code"])
        session.add(unit)
        by_code[unit.code] = unit
        result.changed.append(f"unit {unit.code} created")
    unit.name, unit.name_key, unit.kind = (
        clean(entry["name"]),
        fold_key(entry["name"]),
        entry["kind"],
    )
    unit.parent = by_code.get(entry.get("parent", ""))
    result.units += 1


def _ensure_alias(
    session: Session,
    scope_id: int | None,
    alias: str,
    *,
    unit_id: int | None = None,
    group_id: int | None = None,
) -> None:
    key = fold_key(alias)
    existing = session.scalar(
        sa.select(UnitAlias).where(
            UnitAlias.scope_unit_id.is_not_distinct_from(scope_id), UnitAlias.key == key
        )
    )
    if existing is None:
        session.add(
            UnitAlias(
                scope_unit_id=scope_id,
                alias=clean(alias),
                key=key,
                unit_id=unit_id,
                group_id=group_id,
            )
        )
    else:
        existing.alias, existing.unit_id, existing.group_id = clean(alias), unit_id, group_id


def _upsert_group(
    session: Session, entry: dict, by_code: dict[str, Unit], result: OrganisationResult
) -> None:
    scope = by_code[entry["scope"]]
    key = fold_key(entry["name"])
    group = session.scalar(
        sa.select(UnitGroup).where(UnitGroup.scope_unit_id == scope.id, UnitGroup.name_key == key)
    )
    if group is None:
        group = UnitGroup(scope=scope, name=clean(entry["name"]), name_key=key)
        session.add(group)
    group.members = [by_code[c] for c in entry.get("members", [])]
    session.flush()
    for phrase in entry.get("phrases", []):
        _ensure_alias(session, scope.id, phrase, group_id=group.id)
    result.groups += 1


def _upsert_user(
    session: Session, entry: dict, by_code: dict[str, Unit], result: OrganisationResult
) -> None:
    user = session.scalar(sa.select(User).where(User.username == entry["username"]))
    if user is None:
        user = User(username=entry["username"])
        session.add(user)
    user.full_name, user.role = clean(entry["full_name"]), entry["role"]
    user.email = entry.get("email")
    user.unit = by_code.get(entry.get("unit", ""))
    result.users += 1
