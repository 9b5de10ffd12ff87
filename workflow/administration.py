"""The Office manages its organisation: units, their aliases, and accounts.

One home for these changes, called by the web app and by the command line. Every service checks
the permission contract (:data:`Action.MANAGE_UNITS`, :data:`Action.MANAGE_USERS`) and keeps the
actor inside their organisation (the top-level unit above their unit; an administrator spans
them all), validates everything before it writes, and refuses with one
:class:`~workflow.errors.InvalidInput` naming the field: a refusal changes nothing.

``actor=None`` is the operator at the command line (``nhiemvu user add``): whoever runs the
command on the host already holds the database, so nothing is checked beyond the data itself.

Names compare as the importer reads them (:func:`workflow.text.fold_key`): a name or alias that
would make an appendix's phrase mean two units of one organisation is refused, naming the unit
it would clash with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from workflow import accounts
from workflow.board import led_by
from workflow.context import Context
from workflow.due import announce_again
from workflow.errors import InvalidInput, NotFound, PermissionDenied
from workflow.messages import N_, Message, term
from workflow.models import (
    ROLES,
    UNIT_KINDS,
    IndicatorUnit,
    Plan,
    TaskUnit,
    Unit,
    UnitAlias,
    UnitGroup,
    User,
    unit_group_members,
)
from workflow.organisation import CODE, CODE_RULE, USERNAME_RULE, alias_scope
from workflow.permissions import UNIT_ROLES, Action, organisation, require
from workflow.text import clean, fold_key

NAME_MAX = 255
EMAIL_MAX = 255
OFFICE_ASSIGNABLE_ROLES = ("unit_head", "unit_delegate", "office", "leadership")


# --- scope -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The units an actor manages: one organisation (``root``), or all of them (``None``)."""

    root: Unit | None

    def contains(self, unit: Unit | None) -> bool:
        if self.root is None:
            return True
        return unit is not None and organisation(unit) is self.root


def _all_units(session: Session) -> list[Unit]:
    """Every unit in one query; parents then resolve from the identity map, without SQL."""
    return list(session.scalars(sa.select(Unit).order_by(Unit.code)))


def scope_of(actor: User | None) -> Scope:
    if actor is None or actor.role == "admin" or actor.unit is None:
        return Scope(None)
    return Scope(organisation(actor.unit))


def _not_valid(field: str, value: str, rule: str) -> InvalidInput:
    """``field`` and ``rule`` are marked with ``N_``."""
    return InvalidInput(
        N_("%(field)s: %(value)s is not valid: %(rule)s"),
        field=Message(field),
        value=repr(value),
        rule=Message(rule),
    )


def _not_one_of(field: str, value: str, choices: Iterable[str]) -> InvalidInput:
    return InvalidInput(
        N_("%(field)s: %(value)s is not one of %(choices)s"),
        field=Message(field),
        value=repr(value),
        choices=list(choices),
    )


def _who(actor: User | None) -> Message:
    if actor is None:
        return Message(N_("the command line"))
    return Message(N_("%(user)s (%(role)s)"), user=actor.username, role=term(actor.role))


def _require_in_scope(actor: User | None, unit: Unit | None, what: Message) -> None:
    """``what`` the actor means to do, a message, for the refusal."""
    if scope_of(actor).contains(unit):
        return
    if unit is None:
        raise PermissionDenied(
            N_("%(who)s may not %(what)s: it has no unit"), who=_who(actor), what=what
        )
    raise PermissionDenied(
        N_("%(who)s may not %(what)s: %(unit)s is in another organisation"),
        who=_who(actor),
        what=what,
        unit=unit.name,
    )


def _require(actor: User | None, action: Action) -> None:
    if actor is not None:
        require(actor, action)


# --- reading -----------------------------------------------------------------------------------


@dataclass
class UnitRow:
    unit: Unit
    depth: int
    aliases: list[UnitAlias] = field(default_factory=list)
    tasks_led: int = 0
    accounts: int = 0


def unit_tree(ctx: Context, actor: User) -> list[UnitRow]:
    """The actor's organisation (every organisation, for an administrator) as a tree, depth
    first, children by code: aliases, tasks led and accounts of each unit. Four queries."""
    require(actor, Action.MANAGE_UNITS)
    session = ctx.session
    scope = scope_of(actor)
    units = [u for u in _all_units(session) if scope.contains(u)]
    ids = [u.id for u in units]
    aliases: dict[int, list[UnitAlias]] = defaultdict(list)
    for alias in session.scalars(
        sa.select(UnitAlias).where(UnitAlias.unit_id.in_(ids)).order_by(UnitAlias.alias)
    ):
        aliases[alias.unit_id].append(alias)
    led = dict(
        session.execute(
            sa.select(TaskUnit.unit_id, sa.func.count())
            .where(TaskUnit.role == "lead", TaskUnit.unit_id.in_(ids))
            .group_by(TaskUnit.unit_id)
        ).all()
    )
    people = dict(
        session.execute(
            sa.select(User.unit_id, sa.func.count())
            .where(User.unit_id.in_(ids))
            .group_by(User.unit_id)
        ).all()
    )
    children: dict[int | None, list[Unit]] = defaultdict(list)
    inside = set(ids)
    for unit in units:
        children[unit.parent_id if unit.parent_id in inside else None].append(unit)
    rows: list[UnitRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            rows.append(
                UnitRow(unit, depth, aliases[unit.id], led.get(unit.id, 0), people.get(unit.id, 0))
            )
            walk(unit.id, depth + 1)

    walk(None, 0)
    return rows


def get_unit(ctx: Context, actor: User, unit_id: int) -> Unit:
    """A unit the actor manages; :class:`NotFound` or :class:`PermissionDenied` otherwise."""
    require(actor, Action.MANAGE_UNITS)
    unit = ctx.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(N_("unit %(unit)s does not exist"), unit=unit_id)
    _require_in_scope(actor, unit, Message(N_("manage unit %(unit)s"), unit=unit.code))
    return unit


def unit_aliases(ctx: Context, unit: Unit) -> list[UnitAlias]:
    return list(
        ctx.session.scalars(
            sa.select(UnitAlias).where(UnitAlias.unit_id == unit.id).order_by(UnitAlias.alias)
        )
    )


def tasks_led(ctx: Context, unit: Unit) -> int:
    return ctx.session.scalar(
        sa.select(sa.func.count())
        .select_from(TaskUnit)
        .where(TaskUnit.unit_id == unit.id, TaskUnit.role == "lead")
    )


@dataclass
class UserRow:
    user: User
    locked: bool


def user_list(ctx: Context, actor: User) -> list[UserRow]:
    """The accounts of the actor's organisation (all, for an administrator), by username.
    Two queries (units, then accounts with their unit)."""
    require(actor, Action.MANAGE_USERS)
    scope = scope_of(actor)
    if scope.root is None:
        users = ctx.session.scalars(
            sa.select(User).options(joinedload(User.unit)).order_by(User.username)
        )
    else:
        ids = [u.id for u in _all_units(ctx.session) if scope.contains(u)]
        users = ctx.session.scalars(
            sa.select(User)
            .where(User.unit_id.in_(ids))
            .options(joinedload(User.unit))
            .order_by(User.username)
        )
    now = ctx.now()
    return [UserRow(u, u.locked_until is not None and u.locked_until > now) for u in users]


def get_user(ctx: Context, actor: User | None, user_id: int) -> User:
    """An account the actor manages. Only an administrator manages an administrator's
    account, or one without a unit (it spans every organisation)."""
    _require(actor, Action.MANAGE_USERS)
    account = ctx.session.get(User, user_id)
    if account is None:
        raise NotFound(N_("account %(account)s does not exist"), account=user_id)
    _require_manages(actor, account)
    return account


def _require_manages(actor: User | None, account: User) -> None:
    _require_in_scope(
        actor,
        account.unit,
        Message(N_("manage the account %(username)s"), username=account.username),
    )
    if account.role == "admin" and actor is not None and actor.role != "admin":
        raise PermissionDenied(
            N_("%(who)s may not manage the account %(username)s: an administrator's"),
            who=_who(actor),
            username=account.username,
        )


def assignable_roles(actor: User | None) -> tuple[str, ...]:
    """The roles the actor may give: the Office never makes an administrator."""
    if actor is None or actor.role == "admin":
        return ROLES
    return OFFICE_ASSIGNABLE_ROLES


# --- units -------------------------------------------------------------------------------------


def _clash(session: Session, root: Unit, key: str, itself: Unit | None) -> Message | None:
    """What else in the organisation of ``root`` already answers to ``key`` (a folded name),
    described for a message; None when nothing does. ``itself``: the unit being named."""
    for unit in _all_units(session):
        if unit is itself or organisation(unit) is not root:
            continue
        if key in (unit.name_key, fold_key(unit.code)):
            return Message(N_("the name of %(unit)s (%(code)s)"), unit=unit.name, code=unit.code)
    aliases = session.scalars(
        sa.select(UnitAlias)
        .where(UnitAlias.key == key)
        .options(joinedload(UnitAlias.unit), joinedload(UnitAlias.group))
    )
    for alias in aliases:
        if alias.unit is not None:
            if alias.unit is itself:
                continue
            scope = session.get(Unit, alias.scope_unit_id) if alias.scope_unit_id else None
            if scope is None or organisation(scope) is root or organisation(alias.unit) is root:
                return Message(
                    N_("an alias of %(unit)s (%(code)s)"),
                    unit=alias.unit.name,
                    code=alias.unit.code,
                )
        elif organisation(alias.group.scope) is root:
            return Message(
                N_("a phrase of the group %(group)s (%(code)s)"),
                group=repr(alias.group.name),
                code=alias.group.scope.code,
            )
    for group in session.scalars(sa.select(UnitGroup).where(UnitGroup.name_key == key)):
        if organisation(group.scope) is root:
            return Message(
                N_("the group %(group)s (%(code)s)"), group=repr(group.name), code=group.scope.code
            )
    return None


def _checked_name(name: str | None, what: str) -> str:
    """``name`` cleaned; ``what`` is the field's name, marked with ``N_``."""
    text = clean(name)
    if not text or not fold_key(text):
        raise InvalidInput(N_("%(field)s: required"), field=Message(what))
    if len(text) > NAME_MAX:
        raise InvalidInput(
            N_("%(field)s: at most %(most)s characters"), field=Message(what), most=NAME_MAX
        )
    return text


def _refuse_clash(session: Session, root: Unit, text: str, itself: Unit | None, what: str) -> None:
    """``what`` is the field's name, marked with ``N_``."""
    clash = _clash(session, root, fold_key(text), itself)
    if clash is not None:
        raise InvalidInput(
            N_(
                "%(field)s: %(value)s would be ambiguous in %(organisation)s: it is already %(clash)s"
            ),
            field=Message(what),
            value=repr(text),
            organisation=root.name,
            clash=clash,
        )


def create_unit(
    ctx: Context,
    actor: User,
    *,
    code: str,
    name: str,
    parent_id: int | None,
    kind: str = "other",
) -> Unit:
    """A new unit under ``parent_id`` (a unit of the actor's organisation). Only an
    administrator creates a top-level unit: that is a new organisation."""
    require(actor, Action.MANAGE_UNITS)
    session = ctx.session
    code = (code or "").strip().upper()
    if not CODE.fullmatch(code):
        raise _not_valid(N_("code"), code, CODE_RULE)
    if session.scalar(sa.select(Unit.id).where(Unit.code == code)) is not None:
        raise InvalidInput(
            N_("%(field)s: %(value)s is taken by another unit"),
            field=Message(N_("code")),
            value=repr(code),
        )
    text = _checked_name(name, N_("name"))
    if kind not in UNIT_KINDS:
        raise _not_one_of(N_("kind"), kind, UNIT_KINDS)
    if parent_id is None:
        if scope_of(actor).root is not None:
            raise InvalidInput(
                N_("%(field)s: required (a unit of your organisation)"),
                field=Message(N_("parent")),
            )
        parent = None
    else:
        parent = session.get(Unit, parent_id)
        if parent is None:
            raise InvalidInput(
                N_("%(field)s: unit %(unit)s does not exist"),
                field=Message(N_("parent")),
                unit=parent_id,
            )
        _require_in_scope(
            actor, parent, Message(N_("create a unit under %(unit)s"), unit=parent.code)
        )
    if parent is not None:
        root = organisation(parent)
        _refuse_clash(session, root, text, None, N_("name"))
        _refuse_clash(session, root, code, None, N_("code"))
    unit = Unit(code=code, name=text, name_key=fold_key(text), kind=kind, parent=parent)
    session.add(unit)
    session.flush()
    return unit


def rename_unit(ctx: Context, actor: User, unit_id: int, name: str) -> Unit:
    """Give a unit a new name; the tasks it leads keep pointing at it."""
    unit = get_unit(ctx, actor, unit_id)
    text = _checked_name(name, N_("name"))
    _refuse_clash(ctx.session, organisation(unit), text, unit, N_("name"))
    if text != unit.name:
        unit.name, unit.name_key = text, fold_key(text)
        announce_again(ctx.session, led_by(unit.id))
    ctx.session.flush()
    return unit


def delete_unit(ctx: Context, actor: User, unit_id: int) -> str:
    """Delete a unit nothing refers to (typically one created by mistake); its code."""
    unit = get_unit(ctx, actor, unit_id)
    session = ctx.session

    def count(statement: sa.Select) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))

    uses = [
        (
            count(sa.select(TaskUnit.task_id).where(TaskUnit.unit_id == unit.id)),
            N_("%(count)s task(s)"),
        ),
        (
            count(sa.select(IndicatorUnit.indicator_id).where(IndicatorUnit.unit_id == unit.id)),
            N_("%(count)s indicator(s)"),
        ),
        (
            count(sa.select(Unit.id).where(Unit.parent_id == unit.id)),
            N_("%(count)s unit(s) under it"),
        ),
        (
            count(sa.select(User.id).where(User.unit_id == unit.id)),
            N_("%(count)s account(s)"),
        ),
        (
            count(sa.select(Plan.id).where(Plan.issuer_unit_id == unit.id)),
            N_("%(count)s plan(s) it issued"),
        ),
        (
            count(
                sa.select(unit_group_members.c.group_id).where(
                    unit_group_members.c.unit_id == unit.id
                )
            )
            + count(sa.select(UnitGroup.id).where(UnitGroup.scope_unit_id == unit.id))
            + count(sa.select(UnitAlias.id).where(UnitAlias.scope_unit_id == unit.id)),
            N_("%(count)s group(s) or alias(es) of other units"),
        ),
    ]
    named = [Message(what, count=n) for n, what in uses if n]
    if named:
        raise InvalidInput(
            N_("%(field)s: %(unit)s cannot be deleted: it has %(uses)s"),
            field=Message(N_("unit")),
            unit=unit.code,
            uses=named,
        )
    session.execute(sa.delete(UnitAlias).where(UnitAlias.unit_id == unit.id))
    session.delete(unit)
    session.flush()
    return unit.code


def may_change_aliases(actor: User, unit: Unit) -> bool:
    """A top-level unit's aliases are meaningful in every organisation (an import reads them
    before refusing another organisation's unit): only an administrator adds or removes one."""
    return alias_scope(unit) is not None or scope_of(actor).root is None


def _require_alias_scope(actor: User, unit: Unit) -> None:
    if not may_change_aliases(actor, unit):
        raise PermissionDenied(
            N_(
                "%(who)s may not change the aliases of %(unit)s: a top-level unit's aliases "
                "are read in every organisation; an administrator changes them"
            ),
            who=_who(actor),
            unit=unit.code,
        )


def add_alias(ctx: Context, actor: User, unit_id: int, alias: str) -> UnitAlias:
    """Another name of a unit, as plans' appendices write it; meaningful among its parent's
    units, as in the organisation file. Refused when it would name another unit too."""
    unit = get_unit(ctx, actor, unit_id)
    _require_alias_scope(actor, unit)
    text = _checked_name(alias, N_("alias"))
    key = fold_key(text)
    if key in (unit.name_key, fold_key(unit.code)) or any(
        a.key == key for a in unit_aliases(ctx, unit)
    ):
        raise InvalidInput(
            N_("%(field)s: %(value)s is already a name of %(unit)s (%(code)s)"),
            field=Message(N_("alias")),
            value=repr(text),
            unit=unit.name,
            code=unit.code,
        )
    _refuse_clash(ctx.session, organisation(unit), text, unit, N_("alias"))
    row = UnitAlias(scope_unit_id=alias_scope(unit), alias=text, key=key, unit_id=unit.id)
    ctx.session.add(row)
    ctx.session.flush()
    return row


def remove_alias(ctx: Context, actor: User, unit_id: int, alias_id: int) -> str:
    """Remove one alias of a unit; the alias as it was written."""
    unit = get_unit(ctx, actor, unit_id)
    _require_alias_scope(actor, unit)
    row = ctx.session.get(UnitAlias, alias_id)
    if row is None or row.unit_id != unit.id:
        raise NotFound(
            N_("alias %(alias)s is not an alias of %(unit)s"), alias=alias_id, unit=unit.code
        )
    ctx.session.delete(row)
    ctx.session.flush()
    return row.alias


# --- accounts ----------------------------------------------------------------------------------


def create_user(
    ctx: Context,
    actor: User | None,
    *,
    username: str,
    full_name: str,
    role: str,
    unit_id: int | None,
    email: str | None = None,
    password: str | None = None,
) -> User:
    """A new account. A unit role needs a unit; an account made by the Office belongs to a unit
    of its organisation (an account without a unit would span every organisation). Without a
    password (the command line), nobody can sign in until one is set."""
    _require(actor, Action.MANAGE_USERS)
    session = ctx.session
    username = (username or "").strip()
    if not accounts.valid_username(username):
        raise _not_valid(N_("username"), username, USERNAME_RULE)
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(
            N_("%(field)s: %(value)s is taken"),
            field=Message(N_("username")),
            value=repr(username),
        )
    text = _checked_name(full_name, N_("display name"))
    if role not in ROLES:
        raise _not_one_of(N_("role"), role, ROLES)
    if role not in assignable_roles(actor):
        raise PermissionDenied(
            N_("%(who)s may not create an account with the role %(role)s"),
            who=_who(actor),
            role=term(role),
        )
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        raise InvalidInput(
            N_("%(field)s: unit %(unit)s does not exist"), field=Message(N_("unit")), unit=unit_id
        )
    if unit is None and (role in UNIT_ROLES or (role != "admin" and scope_of(actor).root)):
        raise InvalidInput(
            N_("%(field)s: required for the role %(role)s"),
            field=Message(N_("unit")),
            role=term(role),
        )
    if unit is not None:
        _require_in_scope(actor, unit, Message(N_("create an account in %(unit)s"), unit=unit.code))
    email = (email or "").strip() or None
    if email is not None and ("@" not in email or len(email) > EMAIL_MAX or " " in email):
        raise InvalidInput(
            N_("%(field)s: %(value)s is not an e-mail address"),
            field=Message(N_("email")),
            value=repr(email),
        )
    account = User(username=username, full_name=text, role=role, unit=unit, email=email)
    if password is not None:
        accounts.set_password(ctx, account, password)  # checks the rules before anything is added
    session.add(account)
    session.flush()
    return account


def set_active(ctx: Context, actor: User, user_id: int, active: bool) -> User:
    """Deactivate an account, which signs out each of its sessions, or reactivate it (it signs
    in again with its password). Nobody deactivates their own account."""
    account = get_user(ctx, actor, user_id)
    if not active and account.id == actor.id:
        raise InvalidInput(
            N_("%(field)s: you cannot deactivate your own account"), field=Message(N_("account"))
        )
    account.active = active
    if not active:
        account.session_token = None  # the cookies of its sessions name a token that is gone
    ctx.session.flush()
    return account


def reset_password(ctx: Context, actor: User, user_id: int, password: str) -> User:
    """Give an account of the organisation a new password: its sessions end, a lock-out lifts."""
    account = get_user(ctx, actor, user_id)
    accounts.reset_password(ctx, actor, account, password)
    ctx.session.flush()
    return account
