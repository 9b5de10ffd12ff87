"""Rule files in ``rules/``: ``default.toml`` and optional per-lead-unit overrides.

A rule says, for the due items of the tasks a unit leads, when to remind the unit before the
effective date, when and to whom to escalate after it, and, for tasks waiting for guidance,
how long after the guidance the deadline falls and how often to ask the Office whether it has
arrived. ``<CODE>.toml`` (a unit's code, e.g. ``QLKHCN.toml``) overrides the default for the
tasks that unit leads: each key it sets replaces the default's, the others are inherited; a
list of escalation steps replaces the default's list as a whole.

Read once at start-up and validated; an error names the file, the key and what was expected,
and stops start-up rather than silently running without the rule.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflow.errors import ConfigError

if TYPE_CHECKING:
    from workflow.models import Task

DEFAULT_FILE = "default.toml"
RECIPIENTS = ("lead_unit", "unit_head", "office", "leadership")
COUNTINGS = ("calendar", "working")
_UNIT_FILE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}\.toml$")


@dataclass(frozen=True)
class Step:
    """An escalation step: ``after`` days past the effective date, tell ``to``."""

    after: int
    to: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """The rule for the tasks of one lead unit (or the default), with the file it came from."""

    source: str = DEFAULT_FILE
    reminder_days: tuple[int, ...] = (7, 1)
    reminder_counting: str = "calendar"
    reminder_to: tuple[str, ...] = ("lead_unit",)
    escalation_counting: str = "working"
    escalation_steps: tuple[Step, ...] = (
        Step(1, ("unit_head",)),
        Step(3, ("office",)),
        Step(10, ("leadership",)),
    )
    conditional_deadline_days: int = 30
    guidance_ask_every_days: int = 30
    explanation_answer_working_days: int = 5


@dataclass(frozen=True)
class Rules:
    """The default rule and the overrides by unit code."""

    default: Rule = field(default_factory=Rule)
    by_unit: Mapping[str, Rule] = field(default_factory=dict)

    def for_unit(self, code: str | None) -> Rule:
        return self.by_unit.get(code or "", self.default)

    def for_task(self, task: Task) -> Rule:
        """The rule of the task's first lead unit (the one the plan names first)."""
        leads = task.lead_units
        return self.for_unit(leads[0].code if leads else None)

    @property
    def conditional_deadline_days(self) -> int:
        return self.default.conditional_deadline_days

    @property
    def explanation_answer_working_days(self) -> int:
        return self.default.explanation_answer_working_days


# --- reading and validating -------------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    """One key of a rule file: where it goes in :class:`Rule` and how it is checked."""

    attribute: str
    check: Any  # a function (path, dotted key, value) -> the value for the Rule


def _whole(low: int, high: int):
    def check(path: Path, key: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _error(path, key, f"a whole number from {low} to {high}", value)
        return value

    return check


def _days_list(path: Path, key: str, value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 365 for v in value
    ):
        raise _error(path, key, "a list of whole numbers of days from 0 to 365", value)
    if len(set(value)) != len(value):
        raise _error(path, key, "each number of days once", value)
    return tuple(sorted(value, reverse=True))


def _one_of(choices: tuple[str, ...]):
    def check(path: Path, key: str, value: object) -> str:
        if value not in choices:
            raise _error(path, key, " or ".join(f'"{c}"' for c in choices), value)
        return value  # type: ignore[return-value]

    return check


def _recipients(path: Path, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(v not in RECIPIENTS for v in value):
        expected = "a non-empty list of " + ", ".join(f'"{r}"' for r in RECIPIENTS)
        raise _error(path, key, expected, value)
    return tuple(dict.fromkeys(value))


def _steps(path: Path, key: str, value: object) -> tuple[Step, ...]:
    if not isinstance(value, list) or not value:
        raise _error(path, key, "one or more [[escalation.steps]] tables", value)
    steps = []
    for n, step in enumerate(value, start=1):
        where = f"{key}[{n}]"
        if not isinstance(step, dict):
            raise _error(path, where, "a table with after and to", step)
        _reject_unknown(path, where, step, {"after", "to"})
        for needed in ("after", "to"):
            if needed not in step:
                raise ConfigError(f"{path}: {where}.{needed} is missing")
        steps.append(
            Step(
                _whole(1, 365)(path, f"{where}.after", step["after"]),
                _recipients(path, f"{where}.to", step["to"]),
            )
        )
    afters = [s.after for s in steps]
    if afters != sorted(set(afters)):
        raise _error(path, key, "steps in increasing order of after, each once", afters)
    return tuple(steps)


SCHEMA: dict[str, dict[str, _Key]] = {
    "reminders": {
        "days_before": _Key("reminder_days", _days_list),
        "counting": _Key("reminder_counting", _one_of(COUNTINGS)),
        "to": _Key("reminder_to", _recipients),
    },
    "escalation": {
        "counting": _Key("escalation_counting", _one_of(COUNTINGS)),
        "steps": _Key("escalation_steps", _steps),
    },
    "conditional": {
        "deadline_days": _Key("conditional_deadline_days", _whole(1, 3650)),
        "ask_every_days": _Key("guidance_ask_every_days", _whole(1, 365)),
    },
    "explanation": {
        "answer_working_days": _Key("explanation_answer_working_days", _whole(1, 60)),
    },
}


def _error(path: Path, key: str, expected: str, got: object) -> ConfigError:
    return ConfigError(f"{path}: {key} must be {expected}, got {got!r}")


def _reject_unknown(path: Path, where: str, table: dict, known: set[str] | dict) -> None:
    for key in table:
        if key not in known:
            expected = ", ".join(known)
            raise ConfigError(f"{path}: unknown key {where}.{key} (expected {expected})")


def load_rules(rules_dir: Path) -> Rules:
    """The default rule and every ``<CODE>.toml`` beside it, all validated."""
    path = rules_dir / DEFAULT_FILE
    if not path.exists():
        raise ConfigError(f"{path}: rule file missing (the default rules are required)")
    default = _rule(path, Rule())
    by_unit = {}
    for unit_file in sorted(rules_dir.glob("*.toml")):
        if unit_file.name == DEFAULT_FILE:
            continue
        if not _UNIT_FILE.match(unit_file.name):
            raise ConfigError(
                f"{unit_file}: a rule file is default.toml or named after a unit's code in "
                "capitals (e.g. QLKHCN.toml)"
            )
        by_unit[unit_file.stem] = _rule(unit_file, default)
    return Rules(default, by_unit)


def _rule(path: Path, base: Rule) -> Rule:
    values: dict[str, object] = {"source": path.name}
    for table, entries in _read(path).items():
        for key, value in entries.items():
            target = SCHEMA[table][key]
            values[target.attribute] = target.check(path, f"{table}.{key}", value)
    return replace(base, **values)


def _read(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    for table, value in data.items():
        if table not in SCHEMA:
            raise ConfigError(f"{path}: unknown table [{table}] (expected {', '.join(SCHEMA)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {table} must be a table")
        _reject_unknown(path, table, value, SCHEMA[table])
    return data
