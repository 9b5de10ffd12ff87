"""Vietnamese working days, and the Civil Code rule that moves a deadline off a day off.

Civil Code 2015, art. 148(5): a time limit whose last day falls on a weekend or public holiday
ends at the end of the next working day. Public holidays, substitute days off and the Saturdays
made working days come from the ``holidays`` package; each year the government moves days by
decision, so the Office adds its own changes in ``instance/config.toml`` (``[calendar]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays

_SATURDAY = 5


class WorkingCalendar:
    def __init__(
        self, extra_days_off: Iterable[date] = (), extra_working_days: Iterable[date] = ()
    ) -> None:
        self._extra_days_off = frozenset(extra_days_off)
        self._extra_working_days = frozenset(extra_working_days)
        self._holidays = holidays.country_holidays("VN")

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_working_days:
            return True
        if day in self._extra_days_off:
            return False
        if day in self._holidays:  # also loads the year, and with it its weekend workdays
            return False
        if day in self._holidays.weekend_workdays:
            return True
        return day.weekday() < _SATURDAY

    def holiday_name(self, day: date) -> str | None:
        if day in self._extra_days_off:
            return "Ngày nghỉ theo quyết định"
        return self._holidays.get(day)

    def effective_date(self, nominal: date) -> date:
        """The nominal date, or the next working day after it when it is a day off."""
        day = nominal
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """The day ``count`` working days after (or before, if negative) ``start``."""
        step = timedelta(days=1 if count >= 0 else -1)
        day, remaining = start, abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day
