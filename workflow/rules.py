"""Rule files in ``rules/``: ``default.toml`` and optional per-lead-unit overrides.

Read once at start-up and validated; an error names the file, the key and what was expected,
and stops start-up rather than silently running without the rule.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from workflow.errors import ConfigError

DEFAULT_FILE = "default.toml"
_SCHEMA: dict[str, dict[str, type]] = {
    "conditional": {"deadline_days": int},
    "explanation": {"answer_working_days": int},
}


@dataclass(frozen=True)
class Rules:
    conditional_deadline_days: int = 30
    explanation_answer_working_days: int = 5


def load_rules(rules_dir: Path) -> Rules:
    path = rules_dir / DEFAULT_FILE
    if not path.exists():
        raise ConfigError(f"{path}: rule file missing (the default rules are required)")
    data = _read(path)
    days = data.get("conditional", {}).get("deadline_days", Rules.conditional_deadline_days)
    if not 1 <= days <= 3650:
        raise ConfigError(f"{path}: conditional.deadline_days must be from 1 to 3650, got {days}")
    answer_days = data.get("explanation", {}).get(
        "answer_working_days", Rules.explanation_answer_working_days
    )
    if not 1 <= answer_days <= 60:
        raise ConfigError(
            f"{path}: explanation.answer_working_days must be from 1 to 60, got {answer_days}"
        )
    return Rules(conditional_deadline_days=days, explanation_answer_working_days=answer_days)


def _read(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    for table, value in data.items():
        keys = _SCHEMA.get(table)
        if keys is None:
            raise ConfigError(f"{path}: unknown table [{table}] (expected {', '.join(_SCHEMA)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {table} must be a table")
        for key, item in value.items():
            expected = keys.get(key)
            if expected is None:
                raise ConfigError(f"{path}: unknown key {table}.{key}")
            if not isinstance(item, expected) or isinstance(item, bool):
                raise ConfigError(
                    f"{path}: {table}.{key} must be {expected.__name__}, got {item!r}"
                )
    return data
