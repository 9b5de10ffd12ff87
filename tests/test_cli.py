"""The ``nhiemvu`` command, run as a user runs it: the real console script in a subprocess.

Every test works on its own instance folder with an embedded SQLite database, so this module
behaves the same in the SQLite and the PostgreSQL runs of the suite. The demo is loaded once
(``--today 2026-11-22``, so that what it starts and owes does not depend on the day the suite
runs); a test that changes data works on a copy of it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from workflow.timing import TimingKind, parse_timing

TODAY = "2026-11-22"
SKHCN = "…/KH-SKHCN"  # the number of plan skhcn-57-2025
VPUBND_546 = "546/KH-VPUBND"
VPS = "Văn phòng Sở"
_SCRIPT = Path(sys.executable).with_name("nhiemvu")


def nhiemvu(instance: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "workflow.cli"]
    assert instance is None or isinstance(instance, Path), instance
    if instance is not None:
        command += ["--instance", str(instance)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHIEMVU_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.args, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def as_json(instance: Path, *args: str) -> list[dict]:
    rows = json.loads(ok(nhiemvu(instance, *args, "--format", "json")))
    assert isinstance(rows, list)
    return rows


def refused(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """A user's mistake: the exit code, a message that says so, and never a traceback."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == code, (result.args, result.returncode, output)
    if code == 1:
        assert result.stderr.startswith("error:"), result.stderr
    else:
        assert result.stderr.startswith("Usage:") or result.stderr.startswith("Error:"), output
    return result.stderr


def _copy_instance(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("nhiemvu.db*"):
        shutil.copy2(path, target / path.name)
    return target


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance with the demo loaded; tests only read it."""
    instance = tmp_path_factory.mktemp("demo")
    ok(nhiemvu(instance, "--today", TODAY, "demo"))
    return instance


@pytest.fixture
def instance(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo instance, for tests that change data."""
    return _copy_instance(demo_dir, tmp_path / "instance")


def _find(rows: list[dict], plan: str, ref: str, kind: str = "deadline") -> dict:
    found = [r for r in rows if r["plan"] == plan and r["task_ref"] == ref and r["kind"] == kind]
    assert len(found) == 1, (plan, ref, kind, found)
    return found[0]


@pytest.fixture(scope="module")
def task_ids(demo_dir: Path) -> dict[str, str]:
    """Ids of the tasks of plan skhcn-57-2025 that owe something, as a user finds them."""
    rows = as_json(
        demo_dir, "due", "--from", "2025-01-01", "--to", "2028-12-31", "--plan", "skhcn-57-2025"
    )
    ids = {r["task_ref"]: str(r["task_id"]) for r in rows}
    assert len(set(ids.values())) == len(ids)
    return ids


# --- overdue -------------------------------------------------------------------------------------


def test_overdue_json_lists_the_late_deadlines_of_the_demo(demo_dir: Path) -> None:
    rows = as_json(demo_dir, "overdue", "--as-of", TODAY)
    assert rows
    for row in rows:
        assert {
            "task_id",
            "plan",
            "task",
            "lead_units",
            "due_date",
            "nominal_date",
            "kind",
            "days_overdue",
        } <= set(row)
        due = date.fromisoformat(row["due_date"])
        date.fromisoformat(row["nominal_date"])
        assert row["kind"] in ("deadline", "occurrence")
        assert row["days_overdue"] == (date(2026, 11, 22) - due).days > 0
        assert isinstance(row["lead_units"], list) and row["lead_units"]

    first = _find(rows, SKHCN, "I.1")
    assert first["due_date"] == first["nominal_date"] == "2025-03-31"
    assert first["lead_units"] == [VPS]
    assert first["days_overdue"] == 601
    assert first["task"].startswith("đẩy mạnh tuyên truyền")

    second = _find(rows, SKHCN, "I.2")
    assert second["due_date"] == "2025-02-28"
    assert second["lead_units"] == [VPS]
    assert second["days_overdue"] == 632

    yearly = _find(rows, SKHCN, "II.2")
    assert yearly["due_date"] == "2025-12-31"
    assert yearly["lead_units"] == ["Phòng Quản lý Khoa học và Công nghệ"]
    assert yearly["days_overdue"] == 326

    # The oldest first.
    assert [r["due_date"] for r in rows] == sorted(r["due_date"] for r in rows)


def test_overdue_never_lists_ongoing_or_conditional_tasks(demo_dir: Path) -> None:
    for as_of in (TODAY, "2027-06-30", "2028-02-01"):
        rows = as_json(demo_dir, "overdue", "--as-of", as_of)
        kinds = {parse_timing(r["timing"]).kind for r in rows}
        assert TimingKind.ONGOING not in kinds, as_of
        assert TimingKind.CONDITIONAL not in kinds, as_of


def test_overdue_as_csv(demo_dir: Path) -> None:
    text = ok(nhiemvu(demo_dir, "overdue", "--as-of", TODAY, "--format", "csv"))
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert {"task_id", "plan", "kind", "due_date", "days_overdue", "lead_units", "task"} <= set(
        reader.fieldnames or []
    )
    assert len(rows) == len(as_json(demo_dir, "overdue", "--as-of", TODAY))
    (first,) = [r for r in rows if r["plan"] == SKHCN and r["ref"] == "I.1"]
    assert first["due_date"] == "2025-03-31"
    assert first["days_overdue"] == "601"
    assert first["lead_units"] == VPS
    assert first["task"].startswith("đẩy mạnh tuyên truyền")


def test_overdue_as_a_table(demo_dir: Path) -> None:
    text = ok(nhiemvu(demo_dir, "overdue", "--as-of", TODAY))
    count = len(as_json(demo_dir, "overdue", "--as-of", TODAY))
    assert text.rstrip().endswith(f"{count} items")
    assert "2025-03-31" in text and VPS in text


def _key(row: dict) -> tuple:
    return (row["task_id"], row["kind"], row["period"])


def test_overdue_filtered_by_lead_unit(demo_dir: Path) -> None:
    everything = as_json(demo_dir, "overdue", "--as-of", TODAY)
    led_by_vps = as_json(demo_dir, "overdue", "--as-of", TODAY, "--unit", "VPS")
    assert led_by_vps
    assert all(VPS in r["lead_units"] for r in led_by_vps)
    assert [_key(r) for r in led_by_vps] == [_key(r) for r in everything if VPS in r["lead_units"]]
    assert len(led_by_vps) < len(everything)
    assert {(r["plan"], r["task_ref"]) for r in led_by_vps} >= {(SKHCN, "I.1"), (SKHCN, "I.2")}
    # A unit can also be named by its name.
    assert as_json(demo_dir, "overdue", "--as-of", TODAY, "--unit", VPS) == led_by_vps


def test_overdue_filtered_by_plan(demo_dir: Path) -> None:
    everything = as_json(demo_dir, "overdue", "--as-of", TODAY)
    of_plan = as_json(demo_dir, "overdue", "--as-of", TODAY, "--plan", "skhcn-57-2025")
    assert {r["plan"] for r in of_plan} == {SKHCN}
    assert [_key(r) for r in of_plan] == [_key(r) for r in everything if r["plan"] == SKHCN]
    assert {r["task_ref"] for r in of_plan} == {"I.1", "I.2", "II.2"}
    # A plan can also be named by its number when no other plan shares it.
    assert as_json(demo_dir, "overdue", "--as-of", TODAY, "--plan", VPUBND_546) == [
        r for r in everything if r["plan"] == VPUBND_546
    ]


# --- due -----------------------------------------------------------------------------------------


def test_due_in_december_lists_the_annual_reports_of_14_december(demo_dir: Path) -> None:
    rows = as_json(demo_dir, "due", "--from", "2026-12-01", "--to", "2026-12-31")
    assert all("2026-12-01" <= r["due_date"] <= "2026-12-31" for r in rows)
    assert all(r["status"] == "open" for r in rows)

    on_the_14th = [r for r in rows if r["due_date"] == "2026-12-14"]
    assert {(r["kind"], r["period"]) for r in on_the_14th} == {("report", "2026")}
    per_plan: dict[str, int] = {}
    for r in on_the_14th:
        per_plan[r["plan"]] = per_plan.get(r["plan"], 0) + 1
    # Every started task of the two plans on the national regime: 14 of skhcn-57-2025 (its 7
    # conditional tasks wait for guidance and owe nothing) and all 22 of 546/KH-VPUBND.
    assert per_plan == {SKHCN: 14, VPUBND_546: 22}
    assert len({r["task_id"] for r in on_the_14th}) == 36
    # 14 December is the annual report only: not also December's, Q4's or the half-year's.
    reports = [r for r in rows if r["kind"] == "report"]
    assert not {r["period"] for r in reports} & {"2026-12", "2026-Q4", "2026-H2"}

    # laichau-1969 reports on 5 December, a Saturday in 2026: due Monday 7 December.
    fifth = [r for r in reports if r["nominal_date"] == "2026-12-05"]
    assert fifth
    assert {(r["due_date"], r["period"]) for r in fifth} == {("2026-12-07", "2026")}


def test_today_time_travel_changes_what_is_due(demo_dir: Path) -> None:
    early = as_json(demo_dir, "--today", TODAY, "due")
    late = as_json(demo_dir, "--today", "2026-12-10", "due")
    assert all(TODAY <= r["due_date"] <= "2026-12-22" for r in early)
    assert all("2026-12-10" <= r["due_date"] <= "2027-01-09" for r in late)
    assert any(r["due_date"] == "2026-12-07" for r in early)
    assert not any(r["due_date"] == "2026-12-07" for r in late)
    assert any(r["due_date"] > "2026-12-22" for r in late)  # beyond the first window
    assert any(r["due_date"] == "2026-12-14" for r in early)
    assert any(r["due_date"] == "2026-12-14" for r in late)


def test_today_time_travel_changes_what_is_overdue(demo_dir: Path) -> None:
    on_deadline_day = as_json(
        demo_dir, "--today", "2025-03-31", "overdue", "--plan", "skhcn-57-2025"
    )
    day_after = as_json(demo_dir, "--today", "2025-04-01", "overdue", "--plan", "skhcn-57-2025")
    assert [r["task_ref"] for r in on_deadline_day] == ["I.2"]
    assert [(r["task_ref"], r["days_overdue"]) for r in day_after] == [("I.2", 32), ("I.1", 1)]


# --- tasks ---------------------------------------------------------------------------------------


def test_task_show_prints_timing_due_items_and_history(
    demo_dir: Path, task_ids: dict[str, str]
) -> None:
    fixed = ok(nhiemvu(demo_dir, "--today", TODAY, "task", "show", task_ids["I.1"]))
    assert "I.1" in fixed and "[in_progress]" in fixed
    timing = next(line for line in fixed.splitlines() if "timing:" in line)
    assert "3/2025" in timing and "fixed" in timing and "2025-03-31" in timing
    due_lines = fixed.split("due items", 1)[1].split("reports:", 1)[0]
    assert "2025-03-31" in due_lines and "deadline" in due_lines and "overdue" in due_lines
    history = fixed.split("history:", 1)[1]
    assert "imported" in history and "start" in history and "draft → in_progress" in history

    ongoing = ok(nhiemvu(demo_dir, "--today", TODAY, "task", "show", task_ids["I.3"]))
    timing = next(line for line in ongoing.splitlines() if "timing:" in line)
    assert "Thường xuyên" in timing and "ongoing" in timing
    assert "report năm 2026" in ongoing
    assert "2027-02-15 (nominal 2027-02-14)" in ongoing  # 14/2/2027 is a Sunday


def test_report_then_accept_closes_a_fixed_task(task_ids: dict[str, str], instance: Path) -> None:
    task_id = task_ids["I.1"]
    reported = ok(
        nhiemvu(
            instance,
            "--today",
            "2026-11-23",
            "task",
            "fire",
            task_id,
            "report",
            "--as",
            "vps.head",
            "--note",
            "Đã tổ chức tuyên truyền Nghị quyết 57",
            "--progress",
            "100",
        )
    )
    assert "in_progress → reported" in reported
    accepted = ok(
        nhiemvu(
            instance,
            "--today",
            "2026-11-23",
            "task",
            "fire",
            task_id,
            "accept",
            "--as",
            "vps.office",
        )
    )
    assert "reported → closed" in accepted

    shown = ok(nhiemvu(instance, "--today", "2026-11-23", "task", "show", task_id))
    assert "[closed]" in shown
    assert "100%" in shown
    assert "Đã tổ chức tuyên truyền Nghị quyết 57" in shown
    due_items = shown.split("due items", 1)[1].split("reports:", 1)[0]
    deadline = next(line for line in due_items.splitlines() if "deadline" in line)
    assert "2025-03-31" in deadline
    assert "satisfied" in deadline and "completed_late" in deadline
    history = shown.split("history:", 1)[1]
    assert "vps.head" in history and "in_progress → reported" in history
    assert "vps.office" in history and "reported → closed" in history

    # No longer overdue from the day it was done; still overdue as of the day before.
    after = as_json(instance, "overdue", "--as-of", "2026-11-23", "--plan", "skhcn-57-2025")
    assert "I.1" not in {r["task_ref"] for r in after}
    before = as_json(instance, "overdue", "--as-of", TODAY, "--plan", "skhcn-57-2025")
    assert "I.1" in {r["task_ref"] for r in before}


def test_task_show_gives_times_in_vietnamese_time(task_ids: dict[str, str], instance: Path) -> None:
    # --today acts at nine in the morning, Vietnamese time (02:00 UTC).
    task_id = task_ids["I.2"]
    fire = ["task", "fire", task_id, "report", "--as", "vps.head", "--note", "Xong"]
    ok(nhiemvu(instance, "--today", "2026-11-23", *fire, "--progress", "100"))
    shown = ok(nhiemvu(instance, "--today", "2026-11-23", "task", "show", task_id))
    history = shown.split("history:", 1)[1]
    (line,) = [line for line in history.splitlines() if "in_progress → reported" in line]
    assert "2026-11-23 09:00" in line, line


def test_a_unit_head_of_another_unit_may_not_report(
    demo_dir: Path, task_ids: dict[str, str], instance: Path
) -> None:
    task_id = task_ids["I.1"]  # led by Văn phòng Sở
    result = nhiemvu(
        instance,
        "task",
        "fire",
        task_id,
        "report",
        "--as",
        "qlkhcn.head",
        "--note",
        "Báo cáo",
        "--progress",
        "100",
    )
    stderr = refused(result)
    assert len(stderr.strip().splitlines()) == 1
    assert "may not report" in stderr
    shown = ok(nhiemvu(instance, "task", "show", task_id))
    assert "[in_progress]" in shown
    assert shown.split("reports:", 1)[1].split("history:", 1)[0].strip() == ""
    assert as_json(instance, "overdue", "--as-of", TODAY) == as_json(
        demo_dir, "overdue", "--as-of", TODAY
    )


@pytest.mark.parametrize(
    ("event", "user", "expected"),
    [
        ("accept", "vps.office", "no report"),
        ("return", "vps.office", "no report"),
        ("start", "vps.office", "cannot start"),
        ("reopen", "vps.office", "cannot reopen"),
    ],
)
def test_an_illegal_transition_is_refused_with_one_clear_line(
    task_ids: dict[str, str], instance: Path, event: str, user: str, expected: str
) -> None:
    task_id = task_ids["I.2"]
    args = ["task", "fire", task_id, event, "--as", user]
    if event in ("return", "reopen"):
        args += ["--note", "lý do"]
    stderr = refused(nhiemvu(instance, *args))
    assert len(stderr.strip().splitlines()) == 1
    assert expected in stderr
    assert task_id in stderr
    assert "[in_progress]" in ok(nhiemvu(instance, "task", "show", task_id))


# --- import --------------------------------------------------------------------------------------

_MANIFEST = """\
[plan]
code = "ke-hoach-loi"
number = "99/KH-SKHCN"
title = "Kế hoạch có lỗi"
issuer = "Sở Khoa học và Công nghệ"
reporting_regime = "{regime}"
tasks = "ke-hoach-loi-tasks.csv"
"""
_HEADER = "STT,Tên nhiệm vụ,Đơn vị chủ trì,Đơn vị phối hợp,Thời gian hoàn thành\n"
_GOOD_ROW = "1,Nhiệm vụ đúng,Văn phòng Sở,,3/2027\n"
_BAD_ROWS = (
    "2,,Văn phòng Sở,,2027\n"  # row 3: no name
    "x,Nhiệm vụ ba,Văn phòng Sở,,2027\n"  # row 4: STT is not a number
    "4,Nhiệm vụ bốn,,,2027\n"  # row 5: no lead unit
    "5,Nhiệm vụ năm,Phòng Không Có Thật,,2027\n"  # row 6: a unit nobody knows
)


def _state(instance: Path) -> tuple[str, list[dict], list[dict]]:
    plans = ok(nhiemvu(instance, "plan", "list"))
    late = as_json(instance, "overdue", "--as-of", "2028-01-01", "--kind", "all")
    coming = as_json(instance, "due", "--from", "2026-01-01", "--to", "2028-12-31")
    return plans, late, coming


def test_import_of_a_bad_plan_names_rows_and_columns_and_writes_nothing(
    instance: Path, tmp_path: Path
) -> None:
    before = _state(instance)
    manifest = tmp_path / "ke-hoach-loi.toml"
    manifest.write_text(_MANIFEST.format(regime="monthly:31"), encoding="utf-8")
    (tmp_path / "ke-hoach-loi-tasks.csv").write_text(_HEADER + _GOOD_ROW + _BAD_ROWS, "utf-8")

    stderr = refused(nhiemvu(instance, "import", str(manifest)))
    assert "nothing imported" in stderr
    assert "monthly:31" in stderr
    assert "row 3, column 'Tên nhiệm vụ'" in stderr
    assert "row 4, column 'STT'" in stderr
    assert "row 5, column 'Đơn vị chủ trì'" in stderr
    assert "row 6, column 'Đơn vị chủ trì'" in stderr and "Phòng Không Có Thật" in stderr
    assert _state(instance) == before

    # Once the problems are put right the same files import.
    manifest.write_text(_MANIFEST.format(regime="annual:14/12"), encoding="utf-8")
    (tmp_path / "ke-hoach-loi-tasks.csv").write_text(_HEADER + _GOOD_ROW, "utf-8")
    ok(nhiemvu(instance, "import", str(manifest)))
    assert "ke-hoach-loi" in ok(nhiemvu(instance, "plan", "list"))


def test_import_of_a_bad_table_into_a_plan_writes_nothing(instance: Path, tmp_path: Path) -> None:
    before = _state(instance)
    table = tmp_path / "bo-sung.csv"
    table.write_text(_HEADER + _GOOD_ROW + "2,Nhiệm vụ hai,Phòng Không Có Thật,,2027\n", "utf-8")
    stderr = refused(nhiemvu(instance, "import", "--plan", "skhcn-57-2025", str(table)))
    assert "row 3, column 'Đơn vị chủ trì'" in stderr
    assert "Phòng Không Có Thật" in stderr
    assert _state(instance) == before
    plan_line = next(line for line in before[0].splitlines() if line.startswith("skhcn-57-2025 "))
    assert " 21 " in plan_line


def test_import_of_a_malformed_toml_writes_nothing(instance: Path, tmp_path: Path) -> None:
    before = _state(instance)
    broken = tmp_path / "hong.toml"
    broken.write_text('[plan\ncode = "hong"\n', encoding="utf-8")
    stderr = refused(nhiemvu(instance, "import", str(broken)))
    assert str(broken) in stderr and "line 1" in stderr
    assert _state(instance) == before


# --- user mistakes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["task", "show", "99999"], 1, "99999"),
        (["task", "show", "abc"], 2, "abc"),
        (["task", "fire", "1", "report", "--as", "nobody", "--progress", "5"], 1, "nobody"),
        (["task", "fire", "1", "report", "--as", "vps.head", "--note", "x"], 1, "--progress"),
        (["task", "fire", "1", "report", "--as", "vps.head", "--progress", "101"], 2, "101"),
        (["task", "fire", "1", "finish", "--as", "vps.office"], 2, "finish"),
        (["task", "fire", "99999", "accept", "--as", "vps.office"], 1, "99999"),
        (["overdue", "--as-of", "2026-13-01"], 2, "2026-13-01"),
        (["overdue", "--as-of", "22/11/2026"], 2, "22/11/2026"),
        (["--today", "2026-02-30", "due"], 2, "2026-02-30"),
        (["overdue", "--plan", "khong-co"], 1, "khong-co"),
        (["due", "--plan", "khong-co"], 1, "khong-co"),
        (["summary", "--plan", "khong-co"], 1, "khong-co"),
        (["overdue", "--unit", "KHONGCO"], 1, "KHONGCO"),
        (["due", "--from", "2026-12-31", "--to", "2026-12-01"], 1, "--to"),
        (["plan", "start", "khong-co", "--as", "vps.office"], 1, "khong-co"),
        (["plan", "start", "skhcn-57-2025", "--as", "nobody"], 1, "nobody"),
        (["import", "/khong/co/tep.toml"], 1, "/khong/co/tep.toml"),
        (["import", "--plan", "skhcn-57-2025", "/khong/co/tep.csv"], 1, "/khong/co/tep.csv"),
        (["no-such-command"], 2, "no-such-command"),
    ],
)
def test_user_mistakes_are_refused_without_a_traceback(
    instance: Path, args: list[str], code: int, says: str
) -> None:
    stderr = refused(nhiemvu(instance, *args), code)
    assert says in stderr


def _unopenable_urls(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "garbage.db").write_bytes(b"this is not a database file" * 200)
    return {
        "server-not-listening": "postgresql+psycopg://nobody@127.0.0.1:1/nhiemvu",
        "folder-is-a-file": f"sqlite:///{tmp_path / 'a-file' / 'nhiemvu.db'}",
        "not-a-database-file": f"sqlite:///{tmp_path / 'garbage.db'}",
        "not-a-url": "this is not a database url",
        "unknown-database-kind": "nosuchdb://somewhere/nhiemvu",
    }


@pytest.mark.parametrize(
    "which",
    [
        "server-not-listening",
        "folder-is-a-file",
        "not-a-database-file",
        "not-a-url",
        "unknown-database-kind",
    ],
)
@pytest.mark.parametrize("command", [["overdue"], ["init"]])
def test_a_database_that_cannot_be_opened_is_one_error_line(
    tmp_path: Path, which: str, command: list[str]
) -> None:
    url = _unopenable_urls(tmp_path)[which]
    stderr = refused(nhiemvu(tmp_path, "--database-url", url, *command))
    assert len(stderr.strip().splitlines()) <= 2, stderr


@pytest.mark.parametrize(
    "command",
    [
        ["overdue"],
        ["due"],
        ["summary"],
        ["plan", "list"],
        ["task", "show", "1"],
        ["user", "add", "a.b", "--name", "A B", "--role", "office"],
    ],
)
def test_a_command_before_init_tells_the_user_to_run_init(
    tmp_path: Path, command: list[str]
) -> None:
    stderr = refused(nhiemvu(tmp_path, *command))
    assert "nhiemvu init" in stderr


def test_init_then_an_empty_instance_works(tmp_path: Path) -> None:
    assert "upgraded" in ok(nhiemvu(tmp_path, "init"))
    assert "up to date" in ok(nhiemvu(tmp_path, "init"))
    assert as_json(tmp_path, "overdue") == []
    assert as_json(tmp_path, "due") == []


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ("bogus = 1\n", "bogus"),
        ("horizon_months = 0\n", "horizon_months"),
        ('horizon_months = "15"\n', "horizon_months"),
        ('[calendar]\ndays_off = ["2026-02-30"]\n', "calendar.days_off"),
        ('[calendar]\nworking_days = "2026-08-22"\n', "calendar.working_days"),
        ('[calendar]\nholidays = ["2026-12-31"]\n', "calendar.holidays"),
        ("[calendar\n", "line 1"),
    ],
)
@pytest.mark.parametrize("command", [["overdue"], ["init"]])
def test_a_malformed_config_names_the_file_and_key(
    tmp_path: Path, config: str, named: str, command: list[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    stderr = refused(nhiemvu(tmp_path, *command))
    assert str(path) in stderr
    assert named in stderr


def test_calendar_changes_in_config_move_due_dates(tmp_path: Path) -> None:
    # Monday 14 December 2026 declared a day off: the annual reports move to Tuesday 15.
    (tmp_path / "config.toml").write_text('[calendar]\ndays_off = ["2026-12-14"]\n', "utf-8")
    ok(nhiemvu(tmp_path, "--today", TODAY, "demo"))
    rows = as_json(tmp_path, "due", "--from", "2026-12-01", "--to", "2026-12-31")
    annual = [r for r in rows if r["kind"] == "report" and r["nominal_date"] == "2026-12-14"]
    assert annual
    assert {r["due_date"] for r in annual} == {"2026-12-15"}


# --- the demo ------------------------------------------------------------------------------------


def test_demo_twice_is_idempotent(tmp_path: Path) -> None:
    first = ok(nhiemvu(tmp_path, "--today", TODAY, "demo"))
    state = _state(tmp_path)
    second = ok(nhiemvu(tmp_path, "--today", TODAY, "demo"))

    def counts(output: str) -> list[str]:
        return [line for line in output.splitlines() if line.startswith(("organisation:", "plan "))]

    assert counts(first) and counts(first) == counts(second)
    assert _state(tmp_path) == state
    assert as_json(tmp_path, "overdue", "--as-of", TODAY) == as_json(
        tmp_path, "overdue", "--as-of", TODAY
    )


# --- calendar -----------------------------------------------------------------------------------


def test_calendar_export_writes_a_units_feed(demo_dir: Path, tmp_path: Path) -> None:
    import vobject

    target = tmp_path / "vps.ics"
    args = ("--today", TODAY, "calendar", "export", "--unit", "VPS")
    ok(nhiemvu(demo_dir, *args, "--output", str(target)))
    calendar = vobject.readOne(target.read_text(encoding="utf-8"))
    events = calendar.contents["vevent"]
    assert events and all(VPS in e.summary.value for e in events)
    assert calendar.contents["x-wr-calname"][0].value == f"Hạn nhiệm vụ – {VPS}"
    printed = ok(nhiemvu(demo_dir, *args))
    assert printed.count("BEGIN:VEVENT") == len(events)
    assert "does not exist" in refused(nhiemvu(demo_dir, "calendar", "export", "--unit", "NOPE"))


def _row_counts(instance: Path) -> dict[str, int]:
    """How many rows each table of the instance's database holds."""
    import sqlite3

    with sqlite3.connect(instance / "nhiemvu.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_import_dry_run_shows_each_row_and_writes_nothing(instance: Path, tmp_path: Path) -> None:
    before, rows = _state(instance), _row_counts(instance)
    table = tmp_path / "bo-sung.csv"
    table.write_text(
        _HEADER
        + "1,Nhiệm vụ bổ sung,Văn phòng Sở,,3/2027\n"
        + "2,Nhiệm vụ chờ hướng dẫn,Phòng Mới Tinh,,Sau khi có hướng dẫn của Trung ương\n",
        "utf-8",
    )
    args = ("import", "--dry-run", "--plan", "skhcn-57-2025", str(table))

    stderr = refused(nhiemvu(instance, *args))
    assert "1 problem, nothing imported" in stderr
    assert "bo-sung.csv row 3, column 'Đơn vị chủ trì'" in stderr and "Phòng Mới Tinh" in stderr

    out = ok(nhiemvu(instance, *args[:2], "--create-units", *args[2:]))
    assert "dry run, nothing written" in out
    assert "updates plan skhcn-57-2025" in out
    first = next(line for line in out.splitlines() if line.startswith("1 "))
    assert first.split()[:4] == ["1", "new", "fixed", "31/03/2027"] and VPS in first
    second = next(line for line in out.splitlines() if line.startswith("2 "))
    assert "conditional" in second and "Phòng Mới Tinh (new unit)" in second
    assert "2 tasks new, 0 changed, 0 unchanged, 0 indicators" in out
    assert "tasks of the plan not in this file, left as they are: I.1, I.2" in out
    assert _state(instance) == before and _row_counts(instance) == rows

    # the same file, imported for real, does what the dry run said
    done = ok(nhiemvu(instance, "import", "--create-units", "--plan", "skhcn-57-2025", str(table)))
    assert "2 tasks created, 0 updated, 0 unchanged" in done
    assert _row_counts(instance)["units"] == rows["units"] + 1
