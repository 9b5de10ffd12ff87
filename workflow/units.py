"""Units, their many spellings, and the group phrases that stand for several of them.

A name in a plan's appendix is resolved in the plan's scope: first among the aliases, groups
and units of the issuing unit, then of its parent and so on up, then among unscoped aliases and
every unit's name and code if exactly one matches. Names compare on :func:`workflow.text.fold_key`, so
"Phòng Quản lý KH&CN" and "PHONG QUAN LY KHCN" are one name without any alias.

A cell may hold several names ("Phòng Quản lý KHCN, phòng Quản lý TĐC"), and group phrases
contain commas themselves ("Các phòng, đơn vị thuộc Sở"): the cell is read as the fewest
consecutive comma/semicolon pieces that each resolve.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow.errors import InvalidInput
from workflow.messages import N_
from workflow.models import Unit, UnitAlias, UnitGroup
from workflow.text import clean, fold_key

_SEPARATORS = re.compile(r"[;,\n]")


class UnresolvedName(InvalidInput):
    def __init__(self, phrase: str, candidates: list[Unit] | None = None) -> None:
        self.phrase = phrase
        self.candidates = candidates or []
        if self.candidates:
            names = "; ".join(f"{u.name} ({u.code})" for u in self.candidates[:5])
            super().__init__(
                N_("%(name)s is ambiguous: it could be %(units)s"), name=repr(phrase), units=names
            )
        else:
            super().__init__(N_("unknown unit %(name)s"), name=repr(phrase))


@dataclass(frozen=True)
class _Target:
    units: tuple[Unit, ...]


class UnitDirectory:
    """Every unit, alias and group, loaded once for a batch of look-ups (an import)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units = list(session.scalars(sa.select(Unit)))
        self._names: dict[str, list[Unit]] = defaultdict(list)
        for unit in self.units:
            self._add_name(unit)
        self._scoped: dict[tuple[int | None, str], _Target] = {}
        self._unit_aliases: dict[str, list[tuple[Unit | None, Unit]]] = defaultdict(list)
        for group in session.scalars(sa.select(UnitGroup)):
            self._scoped[group.scope_unit_id, group.name_key] = _Target(tuple(group.members))
        for alias in session.scalars(sa.select(UnitAlias)):
            members = (alias.unit,) if alias.unit is not None else tuple(alias.group.members)
            self._scoped[alias.scope_unit_id, alias.key] = _Target(members)
            if alias.unit is not None:
                scope_unit = session.get(Unit, alias.scope_unit_id) if alias.scope_unit_id else None
                self._unit_aliases[alias.key].append((scope_unit, alias.unit))

    def _add_name(self, unit: Unit) -> None:
        for key in {unit.name_key, fold_key(unit.code)}:
            if key:
                self._names[key].append(unit)

    def resolve_phrase(self, phrase: str, scope: Unit | None) -> list[Unit]:
        """The units a phrase names, read in ``scope`` (a plan's issuer), nearest scope first.

        At each level up from the issuer: an alias or group of that level, else the one unit of
        that name inside that level's subtree. Then unscoped aliases; then the one unit that
        has this name anywhere or this alias within the same organisation (top-level unit): a
        ward's plan never picks up an alias meant for a provincial department.
        """
        key = fold_key(phrase)
        if not key:
            return []
        named = self._names.get(key, [])
        for level in scope.lineage() if scope else []:
            target = self._scoped.get((level.id, key))
            if target is not None:
                return list(target.units)
            inside = [u for u in named if level in u.lineage()]
            if len(inside) == 1:
                return inside
        target = self._scoped.get((None, key))
        if target is not None:
            return list(target.units)
        same_tree = {
            unit
            for alias_scope, unit in self._unit_aliases.get(key, [])
            if scope is None or alias_scope is None or _root(alias_scope) is _root(scope)
        }
        if scope is not None:  # another organisation's unit is never meant
            named = [u for u in named if _root(u) is _root(scope)]
        matches = same_tree | set(named)
        if len(matches) == 1:
            return list(matches)
        raise UnresolvedName(clean(phrase), sorted(matches, key=lambda u: u.code))

    def resolve_cell(self, text: str, scope: Unit | None) -> list[Unit]:
        """All units a cell names, in order, each once. Raises :class:`UnresolvedName`."""
        pieces = [p for p in (clean(s) for s in _SEPARATORS.split(text or "")) if p]
        if not pieces:
            return []
        best: list[list[list[Unit]] | None] = [[]] + [None] * len(pieces)
        first_failure: UnresolvedName | None = None
        for end in range(1, len(pieces) + 1):
            for start in range(end):
                prefix = best[start]
                if prefix is None:
                    continue
                try:
                    units = self.resolve_phrase(", ".join(pieces[start:end]), scope)
                except UnresolvedName as exc:
                    if end - start == 1 and first_failure is None and exc.candidates:
                        first_failure = exc
                    continue
                candidate = [*prefix, units]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
        if best[-1] is None:
            raise first_failure or UnresolvedName(self._first_gap(pieces, best))
        return list(dict.fromkeys(u for group in best[-1] for u in group))

    @staticmethod
    def _first_gap(pieces: list[str], best: list) -> str:
        reached = max(i for i, b in enumerate(best) if b is not None)
        return pieces[reached] if reached < len(pieces) else ", ".join(pieces)

    def create_unit(self, name: str, parent: Unit | None, *, persist: bool = True) -> Unit:
        """A unit nobody knew, created on the user's request during an import.

        With ``persist=False`` (a preview) the unit is known to this directory only: it is not
        added to the session, and its parent is set without touching the parent's children, so
        that no cascade or autoflush can write it; it has no id.
        """
        base = "".join(w[0] for w in fold_key(name).split()).upper()[:12] or "U"
        codes = {u.code for u in self.units}
        code, n = base, 1
        while code in codes:
            n += 1
            code = f"{base}{n}"
        unit = Unit(code=code, name=clean(name), name_key=fold_key(name), kind="other")
        if persist:
            unit.parent = parent
            self.session.add(unit)
        else:
            set_committed_value(unit, "parent", parent)
        self.units.append(unit)
        self._add_name(unit)
        return unit


def _root(unit: Unit) -> Unit:
    return unit.lineage()[-1]


def find_unit(session: Session, code_or_name: str) -> Unit:
    """A unit by its code, or by a name that matches exactly one unit (not a group)."""
    unit = session.scalar(sa.select(Unit).where(Unit.code == code_or_name.strip().upper()))
    if unit is not None:
        return unit
    units = UnitDirectory(session).resolve_phrase(code_or_name, None)
    if len(units) != 1:
        raise UnresolvedName(code_or_name, units)
    return units[0]
