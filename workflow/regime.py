"""Reporting regimes and periods.

A plan's regime says when units report. It is written as ``;``-separated entries:
``monthly:D``, ``quarterly:D``, ``semiannual:D`` (day D of the period's last month) and
``annual:DD/MM``. The national default follows Decree 09/2019/NĐ-CP: data is cut off on the
14th, so monthly reports are due on the 14th, quarterly ones on the 14th of March, June,
September and December, the half-year one on 14 June and the annual one on 14 December::

    monthly:14; quarterly:14; semiannual:14; annual:14/12

When several entries fall on the same day, one report is due that day, for the widest period
(14 December is the annual report, not also December's and the fourth quarter's).

A "period key" names a period everywhere (due items, calendars, reports): ``2026-11`` (month),
``2026-Q4``, ``2026-H1``, ``2026`` (year).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from workflow.errors import InvalidInput
from workflow.messages import N_, Message
from workflow.timing import Frequency

DEFAULT_REGIME = "monthly:14; quarterly:14; semiannual:14; annual:14/12"

_WIDTH = {
    Frequency.MONTHLY: 1,
    Frequency.QUARTERLY: 2,
    Frequency.SEMIANNUAL: 3,
    Frequency.ANNUAL: 4,
}
_PERIOD_MONTHS = {
    Frequency.MONTHLY: tuple(range(1, 13)),
    Frequency.QUARTERLY: (3, 6, 9, 12),
    Frequency.SEMIANNUAL: (6, 12),
}
_ENTRY = re.compile(r"^(monthly|quarterly|semiannual|annual)\s*:\s*(\d{1,2})(?:\s*/\s*(\d{1,2}))?$")
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_MONTHS = (
    N_("January %(year)s"),
    N_("February %(year)s"),
    N_("March %(year)s"),
    N_("April %(year)s"),
    N_("May %(year)s"),
    N_("June %(year)s"),
    N_("July %(year)s"),
    N_("August %(year)s"),
    N_("September %(year)s"),
    N_("October %(year)s"),
    N_("November %(year)s"),
    N_("December %(year)s"),
)
_QUARTERS = (N_("Q1 %(year)s"), N_("Q2 %(year)s"), N_("Q3 %(year)s"), N_("Q4 %(year)s"))
_HALVES = {"H1": N_("first half of %(year)s"), "H2": N_("second half of %(year)s")}
_YEAR = N_("%(year)s")  # a year as a reporting period: "2026"; Vietnamese says "năm 2026"


@dataclass(frozen=True, order=True)
class Period:
    nominal_date: date
    key: str
    frequency: Frequency


@dataclass(frozen=True)
class RegimeEntry:
    frequency: Frequency
    day: int
    month: int | None = None  # annual entries only

    def __str__(self) -> str:
        if self.frequency is Frequency.ANNUAL:
            return f"annual:{self.day:02d}/{self.month:02d}"
        return f"{self.frequency.value}:{self.day}"


@dataclass(frozen=True)
class ReportingRegime:
    entries: tuple[RegimeEntry, ...]

    @classmethod
    def parse(cls, text: str | None) -> ReportingRegime:
        """Read a regime string; an error names the entry and what was expected."""
        text = (text or "").strip() or DEFAULT_REGIME
        entries: list[RegimeEntry] = []
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            entries.append(_parse_entry(part))
        frequencies = [e.frequency for e in entries]
        for freq in set(frequencies):
            if frequencies.count(freq) > 1:
                raise InvalidInput(
                    N_("reporting regime %(regime)s: %(frequency)s is given twice"),
                    regime=repr(text),
                    frequency=freq.value,
                )
        return cls(tuple(sorted(entries, key=lambda e: _WIDTH[e.frequency])))

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.entries)

    def periods(self, start: date, end: date) -> list[Period]:
        """Report dates from ``start`` to ``end`` inclusive, one per day, widest period first."""
        by_day: dict[date, Period] = {}
        for period in self.every_period(start, end):
            current = by_day.get(period.nominal_date)
            if current is None or _WIDTH[period.frequency] > _WIDTH[current.frequency]:
                by_day[period.nominal_date] = period
        return sorted(by_day.values())

    def every_period(self, start: date, end: date) -> list[Period]:
        """Every entry's periods whose report date is from ``start`` to ``end`` inclusive, also
        those that share a day with a wider one: units send one report on 14 December (the
        annual one), but the Office may still sum up the fourth quarter."""
        return sorted(
            period
            for entry in self.entries
            for period in _entry_periods(entry, start.year, end.year)
            if start <= period.nominal_date <= end
        )

    def period(self, key: str) -> Period | None:
        """The period ``key`` names (``2026-Q4``) if the regime has it; a malformed key is
        refused with one message saying what a key looks like."""
        span = parse_period(key)
        year = span.first_day.year
        for period in self.every_period(date(year, 1, 1), date(year, 12, 31)):
            if period.key == span.key and period.frequency is span.frequency:
                return period
        return None

    def previous(self, period: Period) -> Period:
        """The period of the same frequency before ``period`` (its report date ends the window
        of what ``period`` covers)."""
        year = period.nominal_date.year
        earlier = [
            p
            for p in self.every_period(date(year - 1, 1, 1), period.nominal_date)
            if p.frequency is period.frequency and p.nominal_date < period.nominal_date
        ]
        return earlier[-1]


def _parse_entry(part: str) -> RegimeEntry:
    match = _ENTRY.match(part.lower())
    if not match:
        raise InvalidInput(
            N_(
                "reporting regime entry %(entry)s: expected monthly:D, quarterly:D, "
                "semiannual:D or annual:DD/MM"
            ),
            entry=repr(part),
        )
    frequency, day, month = Frequency(match[1]), int(match[2]), match[3]
    if frequency is Frequency.ANNUAL:
        if month is None:
            raise InvalidInput(
                N_("reporting regime entry %(entry)s: annual needs a day/month"), entry=repr(part)
            )
        try:
            date(2025, int(month), day)  # a common year: 29/02 is not a yearly date
        except ValueError:
            raise InvalidInput(
                N_("reporting regime entry %(entry)s: no such day"), entry=repr(part)
            ) from None
        return RegimeEntry(frequency, day, int(month))
    if month is not None or not 1 <= day <= 28:
        raise InvalidInput(
            N_("reporting regime entry %(entry)s: %(frequency)s takes a day from 1 to 28"),
            entry=repr(part),
            frequency=frequency.value,
        )
    return RegimeEntry(frequency, day)


def _entry_periods(entry: RegimeEntry, first_year: int, last_year: int) -> Iterator[Period]:
    for year in range(first_year, last_year + 1):
        if entry.frequency is Frequency.ANNUAL:
            day = date(year, entry.month, entry.day)
            yield Period(day, period_key(Frequency.ANNUAL, day), Frequency.ANNUAL)
            continue
        for month in _PERIOD_MONTHS[entry.frequency]:
            day = date(year, month, entry.day)
            yield Period(day, period_key(entry.frequency, day), entry.frequency)


def period_key(frequency: Frequency, day: date) -> str:
    """The key of the period of ``frequency`` that ``day`` falls in."""
    if frequency is Frequency.MONTHLY:
        return f"{day.year}-{day.month:02d}"
    if frequency is Frequency.QUARTERLY:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if frequency is Frequency.SEMIANNUAL:
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    return str(day.year)


def period_end(frequency: Frequency, year: int, month: int) -> date:
    """The last day of the period of ``frequency`` containing (year, month)."""
    if frequency is Frequency.ANNUAL:
        return date(year, 12, 31)
    if frequency is Frequency.MONTHLY:
        last_month = month
    elif frequency is Frequency.QUARTERLY:
        last_month = ((month - 1) // 3 + 1) * 3
    else:
        last_month = 6 if month <= 6 else 12
    return date(year, last_month, calendar.monthrange(year, last_month)[1])


_PERIOD_KEY = re.compile(r"^(\d{4})(?:-(?:(H[12])|Q([1-4])|(0[1-9]|1[0-2])))?$")


@dataclass(frozen=True)
class PeriodSpan:
    """A period key read back: its frequency and its first and last days."""

    key: str
    frequency: Frequency
    first_day: date
    last_day: date


def parse_period(text: str, field: str = N_("period")) -> PeriodSpan:
    """Read a period key (``2026``, ``2026-H1``, ``2026-Q4``, ``2026-11``; case and spaces
    around it do not matter); anything else is refused with a message naming ``field`` (a
    name marked with ``N_``)."""
    key = (text or "").strip().upper()
    match = _PERIOD_KEY.match(key)
    if not match or not 1900 <= int(match[1]) <= 2200:
        raise InvalidInput(
            N_("%(field)s: %(value)s is not a period (2026, 2026-H1, 2026-Q4 or 2026-11)"),
            field=Message(field),
            value=repr(text),
        )
    year = int(match[1])
    if match[2]:
        frequency, first_month = Frequency.SEMIANNUAL, 1 if match[2] == "H1" else 7
    elif match[3]:
        frequency, first_month = Frequency.QUARTERLY, (int(match[3]) - 1) * 3 + 1
    elif match[4]:
        frequency, first_month = Frequency.MONTHLY, int(match[4])
    else:
        frequency, first_month = Frequency.ANNUAL, 1
    return PeriodSpan(
        key, frequency, date(year, first_month, 1), period_end(frequency, year, first_month)
    )


def describe_period(key: str) -> Message:
    """A period key for people, as a message: ``2026-11`` is "November 2026" in English and
    "tháng 11/2026" in Vietnamese (the catalog's words, which :func:`vietnamese_period` spells)."""
    try:
        span = parse_period(key)
    except InvalidInput:
        return Message(key)  # not a period key: shown as it is
    year, month = span.first_day.year, span.first_day.month
    if span.frequency is Frequency.ANNUAL:
        return Message(_YEAR, year=year)
    if span.frequency is Frequency.SEMIANNUAL:
        return Message(_HALVES["H1" if month == 1 else "H2"], year=year)
    if span.frequency is Frequency.QUARTERLY:
        return Message(_QUARTERS[(month - 1) // 3], year=year)
    return Message(_MONTHS[month - 1], year=year)


def vietnamese_period(key: str) -> str:
    """A period key as Vietnamese documents write it, for the CLI's Vietnamese operators and
    the consolidated report: ``2026-11`` → ``tháng 11/2026``, ``2026-Q4`` → ``quý IV/2026``;
    what is not a period key (``deadline``) as it is."""
    try:
        span = parse_period(key)
    except InvalidInput:
        return key
    year, month = span.first_day.year, span.first_day.month
    if span.frequency is Frequency.ANNUAL:
        return f"năm {year}"
    if span.frequency is Frequency.SEMIANNUAL:
        return f"6 tháng {'đầu' if month == 1 else 'cuối'} năm {year}"
    if span.frequency is Frequency.QUARTERLY:
        return f"quý {_ROMAN[(month - 1) // 3 + 1]}/{year}"
    return f"tháng {month}/{year}"
