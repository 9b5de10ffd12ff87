"""The escalation rules as people read them: the default rule and each unit's override, with
the units each applies to.

A unit whose code names a rule file (``QLKHCN.toml``) follows that file; every other unit follows
``default.toml``. One query, whatever the number of units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.models import Unit
from workflow.rules import SCHEMA, Rule, Rules

_TABLE_OF = {key.attribute: table for table, keys in SCHEMA.items() for key in keys.values()}


class UnitName(NamedTuple):
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class RuleInUse:
    """A rule, the units it applies to, and (for an override) what it changes of the default."""

    rule: Rule
    code: str | None  # the unit code of an override; None for the default
    units: list[UnitName]
    differs: frozenset[str]  # tables of the file (reminders, escalation, …) unlike the default's

    @property
    def is_default(self) -> bool:
        return self.code is None


def _differences(rule: Rule, default: Rule) -> frozenset[str]:
    return frozenset(
        table
        for attribute, table in _TABLE_OF.items()
        if getattr(rule, attribute) != getattr(default, attribute)
    )


def rules_overview(
    session: Session, rules: Rules, unit_ids: Sequence[int] | None = None
) -> list[RuleInUse]:
    """The default rule, then each override by unit code, each with the active units it applies
    to (only those of ``unit_ids`` when given: the reader's organisation), by name."""
    query = sa.select(Unit.id, Unit.code, Unit.name).where(Unit.active.is_(True))
    if unit_ids is not None:
        query = query.where(Unit.id.in_(unit_ids))
    following: dict[str | None, list[UnitName]] = {None: [], **{c: [] for c in rules.by_unit}}
    for row in session.execute(query.order_by(Unit.name, Unit.id)):
        unit = UnitName(*row)
        following[unit.code if unit.code in rules.by_unit else None].append(unit)
    default = RuleInUse(rules.default, None, following[None], frozenset())
    return [
        default,
        *(
            RuleInUse(rule, code, following[code], _differences(rule, rules.default))
            for code, rule in sorted(rules.by_unit.items())
        ),
    ]
