"""Time at the edges: "now" is injected so that every rule can be tested on any date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one instant (tests, ``--today`` time travel)."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    @classmethod
    def on(cls, day: date, hour: int = 9) -> FixedClock:
        """Nine in the morning, Vietnamese time, on ``day``."""
        return cls(datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(UTC))


def local_date(instant: datetime) -> date:
    """The calendar day in Vietnam of an aware instant."""
    return instant.astimezone(LOCAL_TZ).date()


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in Vietnam, in UTC: what happened before it happened
    by the end of that day."""
    return datetime.combine(day + timedelta(days=1), time(), LOCAL_TZ).astimezone(UTC)
