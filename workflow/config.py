"""Settings from ``instance/config.toml`` and the environment.

Precedence: environment variable, then the instance file, then the built-in default. The
default database is SQLite inside the instance folder, so a fresh checkout works with no set-up.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from workflow.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = "config.toml"
_KNOWN_KEYS = {
    "database_url",
    "horizon_months",
    "rules_dir",
    "public_url",
    "calendar",
    "feeds",
    "smtp",
    "scheduler",
}
_KNOWN_CALENDAR_KEYS = {"days_off", "working_days"}
_KNOWN_FEED_KEYS = {"days_back", "months_ahead"}
_KNOWN_SMTP_KEYS = {"host", "port", "security", "username", "password", "sender", "timeout"}
_KNOWN_SCHEDULER_KEYS = {"sweep_minutes", "digest_time", "deliver_seconds"}
SMTP_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class Smtp:
    """The mail server e-mail leaves through; no host means e-mail is off (in-app only)."""

    host: str = ""
    port: int = 25
    security: str = "none"  # "starttls", "ssl" or "none"
    username: str = ""
    password: str = ""  # better in NHIEMVU_SMTP_PASSWORD than in the file
    sender: str = "nhiemvu <nhiemvu@localhost>"
    timeout: int = 10  # seconds

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Schedule:
    """When the scheduler's jobs run (Asia/Ho_Chi_Minh)."""

    sweep_minutes: int = 15
    digest_time: time = time(7, 30)
    deliver_seconds: int = 60


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
    public_url: str = "http://127.0.0.1:5000"  # links in e-mails point here
    smtp: Smtp = field(default_factory=Smtp)
    schedule: Schedule = field(default_factory=Schedule)


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
    public_url = data.get("public_url", Settings.public_url)
    if not isinstance(public_url, str) or not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"{config_file}: public_url must be an address like https://host")
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
        public_url=public_url.rstrip("/"),
        smtp=_smtp(config_file, _table(config_file, "smtp", data, _KNOWN_SMTP_KEYS)),
        schedule=_schedule(
            config_file, _table(config_file, "scheduler", data, _KNOWN_SCHEDULER_KEYS)
        ),
    )


def _text(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be text in quotes")
    return value


def _smtp(path: Path, table: dict) -> Smtp:
    security = table.get("security", Smtp.security)
    if security not in SMTP_SECURITY:
        raise ConfigError(f"{path}: smtp.security must be one of {', '.join(SMTP_SECURITY)}")
    default_port = {"ssl": 465, "starttls": 587}.get(security, 25)
    password = os.environ.get("NHIEMVU_SMTP_PASSWORD") or table.get("password", "")
    return Smtp(
        host=_text(path, "smtp.host", table.get("host", "")),
        port=_whole(path, "smtp.port", table.get("port", default_port), 1, 65535),
        security=security,
        username=_text(path, "smtp.username", table.get("username", "")),
        password=_text(path, "smtp.password", password),
        sender=_text(path, "smtp.sender", table.get("sender", Smtp.sender)),
        timeout=_whole(path, "smtp.timeout", table.get("timeout", Smtp.timeout), 1, 300),
    )


def _schedule(path: Path, table: dict) -> Schedule:
    digest = table.get("digest_time", "07:30")
    try:
        at = time.fromisoformat(digest) if isinstance(digest, str) else digest
    except ValueError:
        at = None
    if not isinstance(at, time):
        raise ConfigError(f'{path}: scheduler.digest_time must be a time like "07:30"')
    return Schedule(
        sweep_minutes=_whole(
            path, "scheduler.sweep_minutes", table.get("sweep_minutes", 15), 1, 1440
        ),
        digest_time=at,
        deliver_seconds=_whole(
            path, "scheduler.deliver_seconds", table.get("deliver_seconds", 60), 5, 3600
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
