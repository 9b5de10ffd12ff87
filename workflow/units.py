"""Units, their many spellings, and the group phrases that stand for several of them.

A name in a plan's appendix is resolved in the plan's scope: first among the aliases and
groups of the issuing unit, then of its parent and so on up, then among every unit's name,
code and aliases if exactly one matches. Names compare on :func:`workflow.text.fold_key`, so
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

from workflow.errors import InvalidInput
from workflow.models import Unit, UnitAlias, UnitGroup
from workflow.text import clean, fold_key

_SEPARATORS = re.compile(r"[;,\n]")


class UnresolvedName(InvalidInput):
    def __init__(self, phrase: str, candidates: list[Unit] | None = None) -> None:
        self.phrase = phrase
        self.candidates = candidates or []
        if self.candidates:
            names = "; ".join(f"{u.name} ({u.code})" for u in self.candidates[:5])
            message = f"{phrase!r} is ambiguous: it could be {names}"
        else:
            message = f"unknown unit {phrase!r}"
        super().__init__(message)


@dataclass(frozen=True)
class _Target:
    units: tuple[Unit, ...]


class UnitDirectory:
    """Every unit, alias and group, loaded once for a batch of look-ups (an import)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units = list(session.scalars(sa.select(Unit)))
        self._scoped: dict[tuple[int | None, str], _Target] = {}
        self._anywhere: dict[str, set[tuple[Unit, ...]]] = defaultdict(set)
        for unit in self.units:
            self._add_anywhere(unit.name_key, (unit,))
            self._add_anywhere(fold_key(unit.code), (unit,))
        for group in session.scalars(sa.select(UnitGroup)):
            target = _Target(tuple(group.members))
            self._scoped[group.scope_unit_id, group.name_key] = target
        for alias in session.scalars(sa.select(UnitAlias)):
            members = (alias.unit,) if alias.unit is not None else tuple(alias.group.members)
            self._scoped[alias.scope_unit_id, alias.key] = _Target(members)
            if alias.unit is not None:
                self._add_anywhere(alias.key, members)

    def _add_anywhere(self, key: str, units: tuple[Unit, ...]) -> None:
        if key:
            self._anywhere[key].add(units)

    def resolve_phrase(self, phrase: str, scope: Unit | None) -> list[Unit]:
        key = fold_key(phrase)
        if not key:
            return []
        scopes: list[int | None] = [u.id for u in scope.lineage()] if scope else []
        for scope_id in [*scopes, None]:
            target = self._scoped.get((scope_id, key))
            if target is not None:
                return list(target.units)
        matches = self._anywhere.get(key, set())
        if len(matches) == 1:
            return list(next(iter(matches)))
        candidates = sorted({u for m in matches for u in m}, key=lambda u: u.code)
        raise UnresolvedName(clean(phrase), candidates)

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

    def create_unit(self, name: str, parent: Unit | None) -> Unit:
        """A unit nobody knew, created on the user's request during an import."""
        base = "".join(w[0] for w in fold_key(name).split()).upper()[:12] or "U"
        codes = {u.code for u in self.units}
        code, n = base, 1
        while code in codes:
            n += 1
            code = f"{base}{n}"
        unit = Unit(
            code=code, name=clean(name), name_key=fold_key(name), kind="other", parent=parent
        )
        self.session.add(unit)
        self.units.append(unit)
        self._add_anywhere(unit.name_key, (unit,))
        return unit


def find_unit(session: Session, code_or_name: str) -> Unit:
    """A unit by its code, or by a name that matches exactly one unit (not a group)."""
    unit = session.scalar(sa.select(Unit).where(Unit.code == code_or_name.strip().upper()))
    if unit is not None:
        return unit
    units = UnitDirectory(session).resolve_phrase(code_or_name, None)
    if len(units) != 1:
        raise UnresolvedName(code_or_name, units)
    return units[0]
