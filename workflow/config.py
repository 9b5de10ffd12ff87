"""Settings from ``instance/config.toml`` and the environment.

Precedence: environment variable, then the instance file, then the built-in default. The
default database is SQLite inside the instance folder, so a fresh checkout works with no set-up.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from workflow.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = "config.toml"
_KNOWN_KEYS = {"database_url", "horizon_months", "rules_dir", "calendar", "feeds"}
_KNOWN_CALENDAR_KEYS = {"days_off", "working_days"}
_KNOWN_FEED_KEYS = {"days_back", "months_ahead"}


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    rules_dir: Path
    horizon_months: int = 15
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)
    feed_days_back: int = 60  # a calendar feed covers from this many days ago ...
    feed_months_ahead: int = 15  # ... to this many months ahead


def default_instance_path() -> Path:
    return Path(os.environ.get("NHIEMVU_INSTANCE", PROJECT_ROOT / "instance")).resolve()


def load_settings(instance_path: Path | None = None, database_url: str | None = None) -> Settings:
    instance = (instance_path or default_instance_path()).resolve()
    config_file = instance / CONFIG_FILE
    data = _read_config(config_file)
    url = (
        database_url
        or os.environ.get("NHIEMVU_DATABASE_URL")
        or data.get("database_url")
        or f"sqlite:///{instance / 'nhiemvu.db'}"
    )
    rules_dir = Path(os.environ.get("NHIEMVU_RULES_DIR") or data.get("rules_dir") or "rules")
    if not rules_dir.is_absolute():
        rules_dir = PROJECT_ROOT / rules_dir
    horizon = _whole(config_file, "horizon_months", data.get("horizon_months", 15), 1, 60)
    calendar = _table(config_file, "calendar", data, _KNOWN_CALENDAR_KEYS)
    feeds = _table(config_file, "feeds", data, _KNOWN_FEED_KEYS)
    return Settings(
        instance_path=instance,
        database_url=url,
        rules_dir=rules_dir,
        horizon_months=horizon,
        extra_days_off=_dates(config_file, "calendar.days_off", calendar.get("days_off", [])),
        extra_working_days=_dates(
            config_file, "calendar.working_days", calendar.get("working_days", [])
        ),
        feed_days_back=_whole(config_file, "feeds.days_back", feeds.get("days_back", 60), 0, 366),
        feed_months_ahead=_whole(
            config_file, "feeds.months_ahead", feeds.get("months_ahead", 15), 1, 60
        ),
    )


def _whole(path: Path, key: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{path}: {key} must be a whole number from {low} to {high}")
    return value


def _table(path: Path, key: str, data: dict, known: set[str]) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    _reject_unknown(path, f"{key}.", table, known)
    return table


def _read_config(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    _reject_unknown(path, "", data, _KNOWN_KEYS)
    return data


def _reject_unknown(path: Path, prefix: str, data: dict, known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        expected = ", ".join(sorted(known))
        raise ConfigError(f"{path}: unknown key {prefix}{unknown[0]} (expected one of {expected})")


def _dates(path: Path, key: str, values: object) -> frozenset[date]:
    if not isinstance(values, list):
        raise ConfigError(f"{path}: {key} must be a list of dates like 2026-01-02")
    result = set()
    for value in values:
        if isinstance(value, date):
            result.add(value)
            continue
        try:
            result.add(date.fromisoformat(str(value)))
        except ValueError:
            raise ConfigError(
                f"{path}: {key} has {value!r}, expected a date like 2026-01-02"
            ) from None
    return frozenset(result)
