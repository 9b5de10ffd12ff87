"""Escalation rules (rules/*.toml): loading with errors that name the file and key, and the pure
evaluation of what fires when, across month ends, Tết and substitute working Saturdays."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from workflow.config import PROJECT_ROOT
from workflow.errors import ConfigError
from workflow.escalation import actions_due, guidance_question_due, schedule, span
from workflow.rules import Rule, Step, load_rules
from workflow.workdays import WorkingCalendar

CALENDAR = WorkingCalendar()
DEFAULT = load_rules(PROJECT_ROOT / "rules").default


def fired_on(due: date, today: date, rule: Rule = DEFAULT, fired=()) -> list[str]:
    return [p.step.split("@")[0] for p in actions_due(due, "open", rule, today, CALENDAR, fired)]


# --- the default rule ------------------------------------------------------------------------------


def test_the_shipped_default_rule():
    assert DEFAULT.source == "default.toml"
    assert DEFAULT.reminder_days == (7, 1)
    assert DEFAULT.reminder_to == ("lead_unit",)
    assert DEFAULT.escalation_counting == "working"
    assert DEFAULT.escalation_steps == (
        Step(1, ("unit_head",)),
        Step(3, ("office",)),
        Step(10, ("leadership",)),
    )
    assert DEFAULT.conditional_deadline_days == 30
    assert DEFAULT.guidance_ask_every_days == 30


def test_reminders_come_before_and_only_the_latest_one_due():
    due = date(2026, 12, 31)  # a Thursday
    assert fired_on(due, date(2026, 12, 23)) == []
    assert fired_on(due, date(2026, 12, 24)) == ["before:7"]
    assert fired_on(due, date(2026, 12, 30)) == ["before:1"]  # 7 days missed: not sent late
    assert fired_on(due, date(2026, 12, 30), fired={f"before:1@{due}"}) == []
    assert fired_on(due, date(2026, 12, 31)) == []  # the day itself: no "1 day left"


def test_escalation_counts_working_days_across_a_month_end():
    due = date(2026, 10, 30)  # Friday; the next working days: Mon 2/11, Tue 3/11, ...
    assert fired_on(due, date(2026, 10, 31)) == []
    assert fired_on(due, date(2026, 11, 1)) == []  # Sunday
    assert fired_on(due, date(2026, 11, 2)) == ["after:1"]
    assert fired_on(due, date(2026, 11, 4), fired={f"after:1@{due}"}) == ["after:3"]
    assert fired_on(due, date(2026, 11, 13), fired={f"after:1@{due}", f"after:3@{due}"}) == [
        "after:10"
    ]


def test_after_downtime_every_missed_step_fires_once_in_order():
    due = date(2026, 10, 30)
    assert fired_on(due, date(2026, 11, 20)) == ["after:1", "after:3", "after:10"]
    everything = {p.step for p in schedule(due, DEFAULT, CALENDAR)}
    assert fired_on(due, date(2026, 11, 20), fired=everything) == []


def test_steps_older_than_the_catch_up_window_lapse():
    due = date(2026, 9, 30)  # after:1 on 1/10, after:3 on 5/10, after:10 on 14/10/2026
    assert fired_on(due, date(2026, 11, 2)) == ["after:3", "after:10"]  # 1/10 is 32 days ago
    assert fired_on(due, date(2026, 12, 1)) == []  # all lapsed: nobody gets stale steps
    start, _end = span(load_rules(PROJECT_ROOT / "rules"), CALENDAR, date(2026, 11, 2))
    assert start <= due  # the sweep still reads the item while a step may fire


def test_tet_holiday_is_not_counted_as_working_days():
    # Tết Bính Ngọ 2026: Monday 16 to Friday 20 February are days off.
    due = date(2026, 2, 13)  # Friday before Tết
    steps = {p.step.split("@")[0]: p.fires_on for p in schedule(due, DEFAULT, CALENDAR)}
    assert steps["after:1"] == date(2026, 2, 23)
    assert steps["after:3"] == date(2026, 2, 25)
    assert steps["before:7"] == date(2026, 2, 6)  # calendar days


def test_a_substitute_working_saturday_counts():
    saturday = date(2026, 12, 26)
    calendar = WorkingCalendar(extra_working_days=frozenset({saturday}))
    due = date(2026, 12, 25)  # Friday
    step = next(p for p in schedule(due, DEFAULT, calendar) if p.step.startswith("after:1@"))
    assert step.fires_on == saturday
    normal = next(p for p in schedule(due, DEFAULT, CALENDAR) if p.step.startswith("after:1@"))
    assert normal.fires_on == date(2026, 12, 28)


def test_working_day_reminders():
    rule = Rule(reminder_days=(3,), reminder_counting="working")
    due = date(2026, 9, 3)  # Thursday after National Day: 31/8 (moved from Sat 22/8), 1-2/9 off
    (reminder,) = [p for p in schedule(due, rule, CALENDAR) if p.kind == "reminder"]
    assert reminder.fires_on == date(2026, 8, 26)  # Fri 28, Thu 27, Wed 26 August


def test_nothing_fires_for_an_item_no_longer_open():
    due = date(2026, 10, 30)
    for status in ("satisfied", "cancelled"):
        assert actions_due(due, status, DEFAULT, date(2026, 11, 20), CALENDAR) == []


def test_a_moved_date_counts_again():
    old, new = date(2026, 10, 30), date(2026, 11, 30)
    fired = {p.step for p in schedule(old, DEFAULT, CALENDAR)}
    assert fired_on(new, date(2026, 11, 23), fired=fired) == ["before:7"]


def test_guidance_questions_every_period_and_once_after_downtime():
    since = date(2026, 9, 1)
    assert guidance_question_due(since, DEFAULT, date(2026, 9, 30)) is None
    first = guidance_question_due(since, DEFAULT, date(2026, 10, 1))
    assert first is not None and first.step == "ask:1" and first.to == ("office",)
    assert guidance_question_due(since, DEFAULT, date(2026, 10, 5), fired={"ask:1"}) is None
    late = guidance_question_due(since, DEFAULT, date(2026, 12, 15), fired={"ask:1"})
    assert late is not None and late.step == "ask:3"  # not ask:2 and ask:3


def test_the_sweep_span_covers_every_rule():
    rules = load_rules(PROJECT_ROOT / "rules")
    start, end = span(rules, CALENDAR, date(2026, 11, 22))
    assert end == date(2026, 11, 29)
    assert start <= date(2026, 11, 22) - timedelta(days=14)


# --- loading -------------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_unit_file_overrides_only_what_it_sets(tmp_path):
    write(tmp_path, "default.toml", (PROJECT_ROOT / "rules" / "default.toml").read_text("utf-8"))
    write(
        tmp_path,
        "QLKHCN.toml",
        "[reminders]\ndays_before = [14, 3]\n\n[[escalation.steps]]\nafter = 2\n"
        'to = ["office", "leadership"]\n',
    )
    rules = load_rules(tmp_path)
    unit = rules.for_unit("QLKHCN")
    assert unit.source == "QLKHCN.toml"
    assert unit.reminder_days == (14, 3) and unit.reminder_to == ("lead_unit",)
    assert unit.escalation_steps == (Step(2, ("office", "leadership")),)
    assert unit.escalation_counting == "working"
    assert rules.for_unit("VPS") is rules.default
    assert rules.for_unit(None) is rules.default


@pytest.mark.parametrize(
    ("name", "text", "named"),
    [
        ("default.toml", "[reminders]\ndays_before = 7\n", "reminders.days_before"),
        ("default.toml", "[reminders]\ndays_before = [7, 7]\n", "reminders.days_before"),
        ("default.toml", '[reminders]\ncounting = "weekdays"\n', "reminders.counting"),
        ("default.toml", '[reminders]\nto = ["director"]\n', "reminders.to"),
        ("default.toml", "[reminders]\nto = []\n", "reminders.to"),
        ("default.toml", "[reminders]\nbefore = [7]\n", "reminders.before"),
        ("default.toml", "[escalation]\nsteps = []\n", "escalation.steps"),
        ("default.toml", '[[escalation.steps]]\nto = ["office"]\n', "escalation.steps[1].after"),
        ("default.toml", "[[escalation.steps]]\nafter = 2\n", "escalation.steps[1].to"),
        (
            "default.toml",
            '[[escalation.steps]]\nafter = 3\nto = ["office"]\n'
            '[[escalation.steps]]\nafter = 1\nto = ["unit_head"]\n',
            "escalation.steps",
        ),
        (
            "default.toml",
            '[[escalation.steps]]\nafter = 0\nto = ["office"]\n',
            "escalation.steps[1].after",
        ),
        ("default.toml", "[conditional]\nask_every_days = true\n", "conditional.ask_every_days"),
        ("default.toml", "[escalations]\n", "[escalations]"),
        ("default.toml", "[reminders\n", "not valid TOML"),
        ("QLKHCN.toml", "[conditional]\ndeadline_days = 0\n", "conditional.deadline_days"),
        ("qlkhcn.toml", "", "named after a unit's code"),
    ],
)
def test_a_malformed_rule_file_is_refused_naming_file_and_key(tmp_path, name, text, named):
    write(tmp_path, "default.toml", "")
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError) as refused:
        load_rules(tmp_path)
    assert str(path) in str(refused.value)
    assert named in str(refused.value)


def test_the_default_file_is_required(tmp_path):
    with pytest.raises(ConfigError, match=r"default\.toml"):
        load_rules(tmp_path)


# --- on the command line ---------------------------------------------------------------------------


def test_rules_check_names_each_rule_and_a_file_for_no_unit(tmp_path):
    from tests.test_cli import nhiemvu, ok

    rules = tmp_path / "rules"
    write(rules, "default.toml", (PROJECT_ROOT / "rules" / "default.toml").read_text("utf-8"))
    write(rules, "QLKHCN.toml", "[reminders]\ndays_before = [3]\n")
    write(rules, "NOBODY.toml", "[reminders]\ndays_before = [3]\n")
    (tmp_path / "config.toml").write_text(f'rules_dir = "{rules}"\n', encoding="utf-8")
    ok(nhiemvu(tmp_path, "--today", "2026-11-22", "demo"))
    lines = ok(nhiemvu(tmp_path, "rules", "check")).splitlines()
    assert lines == [
        "default.toml: the default rule",
        "NOBODY.toml: tasks led by NOBODY (no unit has this code: the file applies to nothing)",
        "QLKHCN.toml: tasks led by QLKHCN",
    ]


def test_a_broken_rule_file_stops_every_command_that_would_escalate(tmp_path):
    from tests.test_cli import nhiemvu, ok, refused

    rules = tmp_path / "rules"
    write(rules, "default.toml", "")
    (tmp_path / "config.toml").write_text(f'rules_dir = "{rules}"\n', encoding="utf-8")
    ok(nhiemvu(tmp_path, "--today", "2026-11-22", "demo"))
    path = write(rules, "default.toml", '[reminders]\nto = ["director"]\n')
    for command in (["rules", "check"], ["scheduler"], ["sweep"], ["serve"]):
        message = refused(nhiemvu(tmp_path, *command))
        assert str(path) in message and "reminders.to" in message, command


def test_rules_explain_shows_what_fires_when(tmp_path):
    from tests.test_cli import nhiemvu, ok

    ok(nhiemvu(tmp_path, "--today", "2026-11-22", "demo"))
    rows = json.loads(ok(nhiemvu(tmp_path, "overdue", "--as-of", "2026-12-01", "--format", "json")))
    task = next(r for r in rows if r["due_date"] == "2026-11-16")  # a monthly occurrence
    out = ok(nhiemvu(tmp_path, "--today", "2026-11-20", "rules", "explain", str(task["task_id"])))
    assert "default.toml" in out.splitlines()[0]
    block = out[out.index("due 2026-11-16:") :].splitlines()[1:6]
    assert [line.split()[0:2] for line in block] == [
        ["2026-11-09", "before:7"],
        ["2026-11-15", "before:1"],
        ["2026-11-17", "after:1"],
        ["2026-11-19", "after:3"],
        ["2026-12-01", "after:10"],
    ]
    assert block[2].endswith("due now") and block[4].endswith("to come")
    ok(nhiemvu(tmp_path, "--today", "2026-11-20", "sweep"))
    again = ok(nhiemvu(tmp_path, "--today", "2026-11-20", "rules", "explain", str(task["task_id"])))
    block = again[again.index("due 2026-11-16:") :].splitlines()[1:6]
    assert block[2].endswith("fired") and block[3].endswith("fired")
