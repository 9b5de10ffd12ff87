"""How long documents in and out take on a plan of provincial size (a script, not a test).

    python benchmarks/documents.py [--tasks 2000] [--repeat 5] [--json FILE]
    python benchmarks/documents.py --database-url postgresql+psycopg://postgres@127.0.0.1/postgres

Builds a scratch instance with ``nhiemvu bench generate --tasks N`` (60 units, plans of 2,000
tasks in every state as of 22/11/2026), then times in this process, each row warmed up once:

- the consolidated report on the first plan for its latest period whose report date has come:
  the engine's figures (``build_report``), then the Word report and the Excel annex from them;
- a Word appendix of that plan's tasks in the seeds' layout (roman sections, the "(1) (2) …"
  row, headers repeated on each page), made with tools/sample_docx.py: reading it
  (``read_docx``), its preview as an update of the plan (every row unchanged), and its import
  as a new plan (in a transaction rolled back after each run).

Prints the plan's size, the files' sizes, then min, p50 and p95 in milliseconds of each row;
``--json FILE`` writes the figures. With ``--database-url`` naming a PostgreSQL server,
everything happens in a database of its own, dropped after.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from common import (
    TODAY,
    Figures,
    analyse,
    machine,
    postgresql_server,
    repeated,
    run_cli,
    scratch_database,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.sample_docx import Section, appendix_table, new_document
from workflow.clock import FixedClock
from workflow.config import load_settings
from workflow.consolidated import build_report, offered_periods
from workflow.context import Engine
from workflow.demo import system_actor
from workflow.docx_source import read_docx
from workflow.importer import import_plan, plan_source_for_table, preview_import
from workflow.models import Plan, Task
from workflow.report_docx import build_docx
from workflow.report_xlsx import build_xlsx

HEADER = ("STT", "Tên nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian hoàn thành")


class _Undone(Exception):
    """Raised to roll an import back once it has been timed."""


def write_appendix(engine: Engine, plan_code: str, path: Path) -> int:
    """The plan's tasks as a Word appendix, section by section; how many task rows."""
    rows: list = []
    with engine.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == plan_code))
        section = None
        for task in ctx.session.scalars(
            sa.select(Task).where(Task.plan_id == plan.id).order_by(Task.position)
        ):
            if task.section is not None and task.section is not section:
                section = task.section
                rows.append(Section(section.number, section.title))
            rows.append(
                [
                    task.number,
                    task.name,
                    task.lead_units_text,
                    task.cooperating_units_text,
                    task.timing_raw,
                ]
            )
    document = new_document()
    appendix_table(document, HEADER, rows)
    document.save(str(path))
    return sum(isinstance(row, list) for row in rows)


def measure(instance: Path, url: str, args: argparse.Namespace) -> dict:
    run_cli(instance, url, "bench", "generate", "--tasks", str(args.tasks))
    if url.startswith("postgresql"):
        analyse(url)
    engine = Engine(load_settings(instance, url), FixedClock.on(TODAY))
    code = "bench-001"
    with engine.context(write=False) as ctx:
        plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == code))
        period = next(p for p in offered_periods(plan, TODAY) if p.nominal_date <= TODAY)
        tasks = ctx.session.scalar(sa.select(sa.func.count()).where(Task.plan_id == plan.id))

    def report():
        with engine.context(write=False) as ctx:
            return build_report(ctx, system_actor(ctx), code, period.key)

    def report_and(build):
        with engine.context(write=False) as ctx:
            return build(build_report(ctx, system_actor(ctx), code, period.key))

    appendix = instance / "phu-luc.docx"
    rows = write_appendix(engine, code, appendix)

    def preview():
        with engine.context() as ctx:
            source = plan_source_for_table(ctx, code, read_docx(appendix))
            return preview_import(ctx, system_actor(ctx), source)

    def import_new():
        try:
            with engine.context() as ctx:
                source = plan_source_for_table(ctx, code, read_docx(appendix))
                source.fields |= {"code": "docx-bench", "number": "9999/KH-UBND"}
                import_plan(ctx, system_actor(ctx), source)
                raise _Undone
        except _Undone:
            pass

    word, excel = report_and(build_docx), report_and(build_xlsx)
    shown = preview()
    assert not shown.problems, shown.problems[:3]
    figures: list[Figures] = [
        repeated("report: the engine's figures (build_report)", args.repeat, report),
        repeated("report: figures + Word report", args.repeat, lambda: report_and(build_docx)),
        repeated("report: figures + Excel annex", args.repeat, lambda: report_and(build_xlsx)),
        repeated("Word appendix: read_docx", args.repeat, lambda: read_docx(appendix)),
        repeated("Word appendix: read + preview (all unchanged)", args.repeat, preview),
        repeated("Word appendix: read + import as a new plan", args.repeat, import_new),
    ]
    print(
        f"plan {code}: {tasks} tasks; report for {period.key} (report date {period.nominal_date})"
    )
    print(f"Word report {len(word) / 1024:.0f} KB, Excel annex {len(excel) / 1024:.0f} KB")
    print(f"Word appendix of {rows} task rows, {appendix.stat().st_size / 1024:.0f} KB")
    print(f"{'':52} {'min':>8} {'p50':>8} {'p95':>8}  (ms)")
    for figure in figures:
        ms = figure.ms()
        print(f"{figure.label:52} {ms['min']:8.0f} {ms['p50']:8.0f} {ms['p95']:8.0f}")
    engine.close()
    return {
        "machine": machine(),
        "database": url.split(":", 1)[0],
        "tasks": tasks,
        "period": period.key,
        "word_report_bytes": len(word),
        "excel_annex_bytes": len(excel),
        "appendix_rows": rows,
        "figures": {figure.label: figure.ms() for figure in figures},
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=2000, help="tasks to generate (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each row (default 5)")
    parser.add_argument("--database-url", help="a PostgreSQL server to make a scratch database on")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    postgresql_server(args.database_url)
    return args


def main() -> None:
    args = arguments()
    with (
        tempfile.TemporaryDirectory(prefix="nhiemvu-bench-") as folder,
        scratch_database(args.database_url, Path(folder)) as url,
    ):
        results = measure(Path(folder), url, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
