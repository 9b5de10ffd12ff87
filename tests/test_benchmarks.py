"""The benchmark suite still runs, on a small dataset, on the database under test.

Times are not asserted (they belong to the README, measured on a quiet machine): what is
checked is that every figure the README shows is produced, that the status changes lost no
update (the script checks the history and versions in the database), that the race gave one
winner and one 409 per task, and that the sweep's dataset has the shape it claims.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = (
    "one unit's overdue list (unit head)",
    "organisation overdue board (Office)",
    "task page with its history",
    "unit calendar feed, If-None-Match (304)",
)


def test_quick_run_produces_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--tasks", "2000"]
    command += ["--sweep-items", "20000", "--repeat", "2", "--changes", "6", "--json", str(out)]
    server = os.environ.get("NHIEMVU_TEST_DATABASE_URL")
    if server:
        command += ["--database-url", server]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())

    assert figures["tasks"] == 2000
    reading = figures["reading"]
    feeds = [work for work in reading if work.startswith("unit calendar feed") and "(200)" in work]
    assert len(feeds) == 1, reading.keys()
    for work in (*WORK, feeds[0]):
        assert work in done.stdout
        for layer in ("http", "engine", "sql"):
            assert reading[work][layer]["p50"] > 0, (work, layer)
        assert reading[work]["http_to_sql"] > 0

    changes = figures["status_changes"]
    assert changes["one client"]["changes"] == 6
    assert changes["4 clients"]["changes"] == 24
    for label in ("one client", "4 clients"):
        assert changes[label]["errors"] == 0, changes[label]["first_error"]
        assert changes[label]["conflicts"] == 0
    race = changes["2 clients, same task and version"]
    assert race["changes"] == race["conflicts"] == 6, race
    assert race["errors"] == 0, race["first_error"]
    assert changes["check"] == {
        "accepted": 36,
        "history_rows_added": 36,
        "tasks_whose_version_moved": 36,
        "no_lost_update": True,
    }

    sweep = figures["sweep"]
    assert sweep["1x"]["due_items"] == 20_000
    assert sweep["1x"]["in_window"] == 200  # 1 % of the items are the sweep's to read
    assert sweep["10x"]["in_window"] == 200
    assert sweep["10x"]["due_items"] == 200 + 10 * (20_000 - 200)
    assert sweep["backlog"]["fired"] > 0
    memory = figures["memory_mb"]
    assert 0 < memory["idle"] <= memory["peak"]
