"""Working days in Vietnam and the Civil Code roll-forward of a deadline that falls on a day off.

Dates checked against the 2026 calendar: Tết Bính Ngọ is 16–20 February 2026 (Monday to
Friday); National Day is 1–2 September 2026; Saturday 22 August 2026 is worked so that Monday
31 August can be taken off.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from workflow.config import load_settings
from workflow.errors import ConfigError
from workflow.workdays import WorkingCalendar


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# --- the package calendar ------------------------------------------------------------------------


def test_tet_2026_is_five_days_off(cal: WorkingCalendar) -> None:
    tet = [date(2026, 2, day) for day in range(16, 21)]
    assert all(d.weekday() < 5 for d in tet)  # Monday to Friday: off only because of Tết
    for day in tet:
        assert not cal.is_working_day(day), day
        assert cal.holiday_name(day), day
    assert cal.is_working_day(date(2026, 2, 13))  # the Friday before
    assert cal.is_working_day(date(2026, 2, 23))  # the Monday after


def test_deadline_on_the_sunday_before_tet_moves_to_the_first_working_day_after_it(
    cal: WorkingCalendar,
) -> None:
    assert date(2026, 2, 15).weekday() == 6
    assert cal.effective_date(date(2026, 2, 15)) == date(2026, 2, 23)
    for day in range(14, 23):  # every day from that weekend to the end of Tết
        assert cal.effective_date(date(2026, 2, day)) == date(2026, 2, 23)


def test_national_day_2026(cal: WorkingCalendar) -> None:
    national_day = date(2026, 9, 2)
    assert national_day.weekday() == 2  # a Wednesday
    assert not cal.is_working_day(national_day)
    assert cal.holiday_name(national_day)
    assert not cal.is_working_day(date(2026, 9, 1))
    assert cal.effective_date(national_day) == date(2026, 9, 3)


def test_substitute_working_saturday_and_its_day_off(cal: WorkingCalendar) -> None:
    worked_saturday = date(2026, 8, 22)
    assert worked_saturday.weekday() == 5
    assert cal.is_working_day(worked_saturday)
    assert cal.effective_date(worked_saturday) == worked_saturday  # a deadline stays put

    day_off_monday = date(2026, 8, 31)
    assert day_off_monday.weekday() == 0
    assert not cal.is_working_day(day_off_monday)
    # 31/8 substitute day off, then 1–2/9 National Day: the next working day is Thursday 3/9.
    assert cal.effective_date(day_off_monday) == date(2026, 9, 3)


def test_an_ordinary_saturday_is_not_a_working_day(cal: WorkingCalendar) -> None:
    saturday = date(2026, 8, 29)
    assert saturday.weekday() == 5
    assert not cal.is_working_day(saturday)
    assert cal.holiday_name(saturday) is None
    assert not cal.is_working_day(date(2026, 11, 21))


@pytest.mark.parametrize(
    ("nominal", "effective"),
    [
        (date(2026, 11, 21), date(2026, 11, 23)),  # Saturday → Monday
        (date(2026, 11, 22), date(2026, 11, 23)),  # Sunday → Monday
        (date(2026, 11, 20), date(2026, 11, 20)),  # a Friday stays
        (date(2026, 11, 23), date(2026, 11, 23)),  # a Monday stays
    ],
)
def test_civil_code_rolls_a_weekend_deadline_to_the_next_working_day(
    cal: WorkingCalendar, nominal: date, effective: date
) -> None:
    assert cal.effective_date(nominal) == effective


@pytest.mark.parametrize(
    ("month_end", "effective"),
    [
        (date(2026, 1, 31), date(2026, 2, 2)),  # Saturday
        (date(2026, 5, 31), date(2026, 6, 1)),  # Sunday
        (date(2026, 10, 31), date(2026, 11, 2)),  # Saturday
        (date(2026, 4, 30), date(2026, 5, 4)),  # 30/4 and 1/5 holidays, then a weekend
        (date(2026, 12, 31), date(2026, 12, 31)),  # Thursday, a working day
        (date(2027, 1, 31), date(2027, 2, 1)),  # Sunday
    ],
)
def test_month_end_deadlines(cal: WorkingCalendar, month_end: date, effective: date) -> None:
    assert cal.effective_date(month_end) == effective


def test_effective_date_is_always_a_working_day_on_or_after_the_nominal_one(
    cal: WorkingCalendar,
) -> None:
    day = date(2026, 1, 1)
    while day <= date(2027, 12, 31):
        effective = cal.effective_date(day)
        assert effective >= day
        assert cal.is_working_day(effective)
        assert all(
            not cal.is_working_day(day + timedelta(n)) for n in range((effective - day).days)
        )
        day += timedelta(days=1)


# --- changes from the instance configuration ----------------------------------------------------


def test_extra_day_off_from_configuration_overrides_the_package() -> None:
    decided = date(2026, 12, 31)  # a Thursday the package counts as working
    plain, configured = WorkingCalendar(), WorkingCalendar(extra_days_off=[decided])
    assert plain.is_working_day(decided)
    assert not configured.is_working_day(decided)
    assert configured.holiday_name(decided)
    # 31/12 off, 1/1/2027 New Year, then a weekend: Monday 4 January 2027.
    assert configured.effective_date(decided) == date(2027, 1, 4)
    # The configured day off also cancels a working Saturday of the package.
    assert not WorkingCalendar(extra_days_off=[date(2026, 8, 22)]).is_working_day(date(2026, 8, 22))


def test_extra_working_day_from_configuration_overrides_the_package() -> None:
    saturday, substitute_off = date(2026, 12, 26), date(2026, 8, 31)
    configured = WorkingCalendar(extra_working_days=[saturday, substitute_off])
    assert not WorkingCalendar().is_working_day(saturday)
    assert configured.is_working_day(saturday)
    assert configured.effective_date(saturday) == saturday
    assert configured.is_working_day(substitute_off)
    assert configured.effective_date(date(2026, 8, 30)) == substitute_off


# --- counting working days -------------------------------------------------------------------------


def test_add_working_days_forwards_across_tet(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert cal.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 11), 5) == date(2026, 2, 25)


def test_add_working_days_backwards_across_tet(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 2, 23), -1) == date(2026, 2, 13)
    assert cal.add_working_days(date(2026, 2, 24), -3) == date(2026, 2, 12)


def test_add_zero_working_days_is_the_same_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 2, 17), 0) == date(2026, 2, 17)


def test_add_working_days_counts_the_substitute_saturday(cal: WorkingCalendar) -> None:
    # Friday 21/8 + 1 is the worked Saturday 22/8; + 2 skips Sunday 23/8 to Monday 24/8.
    assert cal.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert cal.add_working_days(date(2026, 8, 21), 2) == date(2026, 8, 24)
    # From Friday 28/8, the next working day is Thursday 3/9 (31/8, 1/9, 2/9 off).
    assert cal.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


# --- [calendar] in instance/config.toml -----------------------------------------------------------


def _write_config(instance: Path, text: str) -> Path:
    path = instance / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_settings_reads_calendar_changes(tmp_path: Path) -> None:
    _write_config(
        tmp_path,
        '[calendar]\ndays_off = ["2026-12-31", 2027-01-04]\nworking_days = ["2026-12-26"]\n',
    )
    settings = load_settings(tmp_path)
    assert settings.extra_days_off == {date(2026, 12, 31), date(2027, 1, 4)}
    assert settings.extra_working_days == {date(2026, 12, 26)}
    cal = WorkingCalendar(settings.extra_days_off, settings.extra_working_days)
    assert cal.effective_date(date(2026, 12, 31)) == date(2027, 1, 5)
    assert cal.is_working_day(date(2026, 12, 26))


def test_load_settings_without_calendar_changes(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.extra_days_off == frozenset()
    assert settings.extra_working_days == frozenset()
    _write_config(tmp_path, "[calendar]\n")
    assert load_settings(tmp_path).extra_days_off == frozenset()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[calendar]\nholidays = ["2026-12-31"]\n', "calendar.holidays"),
        ('[calendar]\ndays_off = ["2026-02-30"]\n', "calendar.days_off"),
        ('[calendar]\nworking_days = ["26/12/2026"]\n', "calendar.working_days"),
        ('[calendar]\ndays_off = "2026-12-31"\n', "calendar.days_off"),
        ('calendar = ["2026-12-31"]\n', "calendar"),
        ('[calender]\ndays_off = ["2026-12-31"]\n', "calender"),
        ("[feeds]\ndays_back = -1\n", "feeds.days_back"),
        ('[feeds]\nmonths_ahead = "15"\n', "feeds.months_ahead"),
        ("[feeds]\nmonths_ahead = 61\n", "feeds.months_ahead"),
        ("[feeds]\nweeks_ahead = 6\n", "feeds.weeks_ahead"),
        ("feeds = 6\n", "feeds"),
        ("horizon_months = true\n", "horizon_months"),
    ],
)
def test_load_settings_rejects_a_bad_calendar_naming_file_and_key(
    tmp_path: Path, text: str, named: str
) -> None:
    path = _write_config(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    message = str(raised.value)
    assert str(path) in message
    assert named in message


def test_load_settings_names_the_bad_date(tmp_path: Path) -> None:
    _write_config(tmp_path, '[calendar]\ndays_off = ["2026-12-31", "2026-02-30"]\n')
    with pytest.raises(ConfigError, match="2026-02-30"):
        load_settings(tmp_path)
