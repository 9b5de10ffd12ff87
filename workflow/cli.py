"""The ``nhiemvu`` command. Thin: parse options, call the engine, print.

A user's mistake prints one line starting with ``error:`` and exits 1; usage errors exit 2.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, DatabaseError

from workflow import migrate
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.config import load_settings
from workflow.context import Context, Engine
from workflow.db import sqlite_file
from workflow.errors import ImportFailed, InvalidInput, NhiemvuError, NotFound
from workflow.models import ROLES, Report, User
from workflow.queries import (
    ALL_KINDS,
    DEADLINE_KINDS,
    DueRow,
    overdue,
    pending_report_id,
    plans_with_task_counts,
    summary,
    task_detail,
    upcoming,
)
from workflow.regime import vietnamese_period

if TYPE_CHECKING:  # the importer loads openpyxl: only the import command needs it
    from workflow.importer import ImportPreview, UnitPreview
    from workflow.timing import Timing

KIND_CHOICES = ["deadline", "occurrence", "report", "all"]


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-22", param, ctx)


DATE = DateType()


class State:
    def __init__(self, instance: Path | None, database_url: str | None, today: date | None):
        self.instance, self.database_url, self.today = instance, database_url, today
        self._engine: Engine | None = None

    def engine(self, require_schema: bool = True) -> Engine:
        if self._engine is None:
            settings = load_settings(self.instance, self.database_url)
            missing = sqlite_file(settings.database_url)
            if require_schema and missing is not None and not missing.exists():
                raise NhiemvuError(
                    f"no database at {missing}: run `nhiemvu init` (or `nhiemvu demo`)"
                )
            clock = FixedClock.on(self.today) if self.today else None
            self._engine = Engine(settings, clock)
            if require_schema and not migrate.is_current(self._engine.database):
                raise NhiemvuError(
                    f"the database at {_safe_url(settings.database_url)} is not initialised or "
                    "not up to date: run `nhiemvu init`"
                )
        return self._engine


def _safe_url(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


pass_state = click.make_pass_decorator(State)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--instance", type=click.Path(path_type=Path), help="Instance folder (config, SQLite)."
)
@click.option("--database-url", help="Overrides NHIEMVU_DATABASE_URL and instance/config.toml.")
@click.option("--today", type=DATE, help="Act as if today were this date (time travel, tests).")
@click.pass_context
def cli(
    ctx: click.Context, instance: Path | None, database_url: str | None, today: date | None
) -> None:
    """nhiemvu: track the tasks of government action plans."""
    ctx.obj = State(instance, database_url, today)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except NhiemvuError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except ArgumentError as exc:
        click.echo(f"error: database URL: {exc}", err=True)
        sys.exit(1)
    except DatabaseError as exc:
        click.echo(f"error: database: {str(exc.orig).strip().splitlines()[0]}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
        sys.exit(1)


# --- set-up --------------------------------------------------------------------------------------


@cli.command()
@pass_state
def init(state: State) -> None:
    """Create the database, or upgrade it to the current schema."""
    engine = state.engine(require_schema=False)
    before = migrate.current_revision(engine.database)
    migrate.upgrade(engine.database)
    after = migrate.current_revision(engine.database)
    url = _safe_url(engine.settings.database_url)
    click.echo(f"database {url}: " + ("up to date" if before == after else f"upgraded to {after}"))


@cli.command()
@pass_state
def demo(state: State) -> None:
    """Initialise the database and load the demo organisation and every seed plan."""
    from workflow.demo import load_demo

    engine = state.engine(require_schema=False)
    migrate.upgrade(engine.database)
    lines: list[str] = []
    with engine.context() as ctx:
        result = load_demo(ctx)
        org = result.organisation
        lines.append(f"organisation: {org.units} units, {org.groups} groups, {org.users} users")
        for plan_result in result.plans:
            plan = plan_result.plan
            lines.append(
                f"plan {plan.code} ({plan.number}): {len(plan.tasks)} tasks, "
                f"{len(plan.indicators)} indicators, {plan.status}"
                + (f", supersedes {plan.supersedes.number}" if plan.supersedes else "")
            )
        lines += [f"started {count} tasks of {code}" for code, count in result.started.items()]
        lines.append(f"demo accounts (password {result.password}):")
        for user in result.users:
            unit = user.unit.code if user.unit else "-"
            lines.append(f"  {user.username:<18} {user.role:<13} {unit}")
    click.echo("\n".join(lines))
    click.echo(f"database {_safe_url(engine.settings.database_url)} ready")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run `nhiemvu scheduler` in a process of its own (a single-machine install).",
)
@pass_state
def serve(state: State, host: str, port: int, threads: int, with_scheduler: bool) -> None:
    """Run the web app with the production WSGI server (waitress)."""
    import waitress

    from web import create_app

    app = create_app(engine=state.engine())
    scheduler = _start_scheduler(state) if with_scheduler else None
    # SIGTERM (systemd, docker stop) ends the server like Ctrl+C, so the scheduler stops with it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"nhiemvu at http://{host}:{port}/ (Ctrl+C to stop)")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="nhiemvu")
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(timeout=10)


def _start_scheduler(state: State) -> subprocess.Popen:
    """The scheduler as a child process: never inside the web server's process, where it would
    run once per worker and die with it."""
    command = [sys.executable, "-m", "workflow.cli"]
    if state.instance is not None:
        command += ["--instance", str(state.instance)]
    if state.database_url is not None:
        command += ["--database-url", state.database_url]
    if state.today is not None:
        command += ["--today", state.today.isoformat()]
    return subprocess.Popen([*command, "scheduler"])


@cli.group()
def password() -> None:
    """Passwords of accounts (the operator's way in before anyone can sign in)."""


@password.command("set")
@click.argument("username")
@click.password_option(prompt="New password", help="Asked for when not given.")
@pass_state
def password_set(state: State, username: str, password: str) -> None:
    """Give an account a new password; its other sessions are signed out."""
    from workflow.accounts import set_password

    with state.engine().context() as ctx:
        set_password(ctx, _user(ctx, username), password)
    click.echo(f"password of {username} changed")


# --- import --------------------------------------------------------------------------------------


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--plan",
    "plan_ref",
    help="Plan (code or number) a bare tasks table, or a document of appendices only, belongs to.",
)
@click.option("--create-units", is_flag=True, help="Create units nobody knows instead of refusing.")
@click.option("--as", "username", help="Act as this user (default: the first administrator).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what the import would do, and its problems; write nothing.",
)
@pass_state
def import_(
    state: State,
    files: Sequence[Path],
    plan_ref: str | None,
    create_units: bool,
    username: str | None,
    dry_run: bool,
) -> None:
    """Import plan manifests (.toml), workbooks (.xlsx), tables (.csv), Word documents (.docx)
    or organisation files.

    Each file is imported whole or not at all.
    """
    from workflow.demo import existing_admin, system_actor
    from workflow.importer import (
        LARGE_IMPORT,
        PlanSource,
        count_rows,
        import_plan,
        needs_plan,
        plan_source_for_table,
        preview_import,
        read_source,
    )
    from workflow.organisation import load_organisation

    engine = state.engine()
    for path in files:
        with engine.context(write=not dry_run) as ctx:
            source = read_source(path)
            if isinstance(source, dict) and dry_run:
                raise InvalidInput(f"{path}: --dry-run previews plans, not organisation files")
            if isinstance(source, dict):
                actor = _user(ctx, username) if username else existing_admin(ctx)
                org = load_organisation(ctx.session, source, path.name, actor)
                click.echo(f"{path}: {org.units} units, {org.groups} groups, {org.users} users")
                continue
            if needs_plan(source):
                if not plan_ref:
                    raise InvalidInput(
                        f"{path}: a bare table, or appendices without their plan's heading "
                        "(no 'Số:' number), needs the plan they belong to: --plan CODE"
                    )
                source = plan_source_for_table(ctx, plan_ref, source)
            assert isinstance(source, PlanSource)
            actor = _user(ctx, username) if username else system_actor(ctx)
            if dry_run:
                preview = preview_import(ctx, actor, source, create_units=create_units)
                click.echo(_preview_text(path, preview))
                if preview.problems:
                    raise ImportFailed(source.source, preview.problems)
                continue
            rows = count_rows(source)
            if rows >= LARGE_IMPORT and sys.stderr.isatty():
                with click.progressbar(
                    length=rows, label=f"importing {path.name}", file=sys.stderr
                ) as bar:
                    result = import_plan(
                        ctx, actor, source, create_units=create_units, progress=bar.update
                    )
            else:
                result = import_plan(ctx, actor, source, create_units=create_units)
            plan = result.plan
            click.echo(
                f"{path}: plan {plan.number}: {result.created} tasks created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {result.indicators} indicators"
            )
            for line in [*result.superseded, *result.warnings]:
                click.echo(f"  {line}")


def _preview_text(path: Path, preview: ImportPreview) -> str:
    """A dry run as text: the plan, a line per row, the warnings; nothing was written."""
    plan = preview.plan
    doing = f"updates plan {plan.updates}" if plan.updates else "new plan"
    changed = f" (changes {', '.join(plan.changes)})" if plan.changes else ""
    lines = [
        f"{path}: dry run, nothing written",
        f"plan {plan.number} [{plan.code}]: {doing}{changed}",
        f"  {plan.title}",
        f"  issuer: {_unit_names([plan.issuer] if plan.issuer else []) or plan.issuer_text or '-'}"
        f"; issued: {_issued(plan.issued_on) or plan.issued_text or '-'}"
        f"; regime: {plan.reporting_regime}",
    ]
    if plan.supersedes:
        lines.append(f"  supersedes plan {plan.supersedes[1]} [{plan.supersedes[0]}]")
    if preview.tasks:
        rows = [
            [
                t.ref,
                _action_text(t.action, t.changes),
                t.timing.kind.value,
                _timing_reading(t.timing),
                _unit_names(t.lead)[:40],
                t.name[:50],
            ]
            for t in preview.tasks
        ]
        lines += ["", _table(["ref", "import", "timing", "read as", "lead", "task"], rows)]
    if preview.indicators:
        rows = [
            [
                i.ref,
                _action_text(i.action, i.changes),
                i.code,
                f"{i.comparator or ''}{i.target_value if i.target_value is not None else i.target_text}",
                str(i.year or ""),
                _unit_names(i.lead)[:40],
                i.name[:50],
            ]
            for i in preview.indicators
        ]
        lines += [
            "",
            _table(["ref", "import", "code", "target", "year", "lead", "indicator"], rows),
        ]
    counts = (preview.count("new"), preview.count("changed"), preview.count("unchanged"))
    lines += [
        "",
        f"{counts[0]} tasks new, {counts[1]} changed, {counts[2]} unchanged, "
        f"{len(preview.indicators)} indicators",
    ]
    if preview.untouched:
        refs = ", ".join(ref for ref, _ in preview.untouched)
        lines.append(f"tasks of the plan not in this file, left as they are: {refs}")
    lines += [f"warning: {w}" for w in preview.warnings]
    return "\n".join(lines)


def _issued(day: date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""


def _action_text(action: str, changes: list[str]) -> str:
    return f"changed: {', '.join(changes)}" if action == "changed" else action


def _timing_reading(timing: Timing) -> str:
    """What a timing was read as: its deadline, its rhythm, or what it waits for."""
    parts = [
        f"{timing.deadline:%d/%m/%Y}" if timing.deadline else "",
        timing.frequency.value if timing.frequency else "",
        timing.trigger or "",
    ]
    return "; ".join(p for p in parts if p) or "-"


def _unit_names(units: Sequence[UnitPreview]) -> str:
    return "; ".join(f"{u.name} (new unit)" if u.new else u.name for u in units)


# --- plans ---------------------------------------------------------------------------------------


@cli.group()
def plan() -> None:
    """Plans: list them, start their tasks."""


@plan.command("list")
@pass_state
def plan_list(state: State) -> None:
    with state.engine().context(write=False) as ctx:
        rows = [
            [p.code, p.number, p.status, str(count), p.title[:60]]
            for p, count in plans_with_task_counts(ctx.session)
        ]
    click.echo(_table(["code", "number", "status", "tasks", "title"], rows))


@plan.command("start")
@click.argument("plan_ref")
@click.option("--as", "username", required=True, help="An Office user.")
@pass_state
def plan_start(state: State, plan_ref: str, username: str) -> None:
    """Start every draft task of a plan (conditional ones wait for their guidance)."""
    from workflow.plans import find_plan
    from workflow.tasks import start_plan

    with state.engine().context() as ctx:
        started = start_plan(ctx, _user(ctx, username), find_plan(ctx, plan_ref).id)
        waiting = sum(1 for t in started if t.status == "waiting")
        click.echo(f"started {len(started)} tasks ({waiting} waiting for guidance)")


@cli.command()
@click.option("--plan", "plan_ref", help="Only this plan (code or number).")
@pass_state
def refresh(state: State, plan_ref: str | None) -> None:
    """Roll due items forward to the horizon and apply calendar changes (safe to repeat)."""
    from workflow.plans import find_plan, refresh_due_items

    with state.engine().context() as ctx:
        plan_id = find_plan(ctx, plan_ref).id if plan_ref else None
        result = refresh_due_items(ctx, plan_id)
    click.echo(
        f"{result.tasks} tasks: {result.created} due items added, {result.moved} moved, "
        f"{result.cancelled} cancelled"
    )


@cli.command("report")
@click.option("--plan", "plan_ref", required=True, help="Plan (code or number).")
@click.option("--period", required=True, help="Reporting period: 2026-11, 2026-Q4, 2026-H1, 2026.")
@click.option(
    "--format", "fmt", type=click.Choice(["docx", "xlsx"]), default="docx", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@click.option("--as", "username", help="Act as this user (default: the first administrator).")
@pass_state
def report_cmd(
    state: State,
    plan_ref: str,
    period: str,
    fmt: str,
    output: Path | None,
    username: str | None,
) -> None:
    """Write the Office's consolidated report on a plan for a period (Word, or its Excel annex).

    Changes nothing in the database.
    """
    from workflow.consolidated import build_report
    from workflow.demo import system_actor
    from workflow.report_files import report_file

    with state.engine().context(write=False) as ctx:
        actor = _user(ctx, username) if username else system_actor(ctx)
        report = build_report(ctx, actor, plan_ref, period)
        made = report_file(report, fmt)
        output = output or Path(made.name)
        line = (
            f"report on {report.plan.number} for {report.period.key}, "
            f"as of {report.as_of:%d/%m/%Y}, {len(report.tasks)} tasks"
        )
    output.write_bytes(made.content)
    click.echo(f"{output}: {line}")


# --- what is due --------------------------------------------------------------------------------


def _kinds(values: Sequence[str], default: Sequence[str]) -> Sequence[str]:
    if not values:
        return default
    return ALL_KINDS if "all" in values else tuple(values)


def _filters(ctx: Context, unit: str | None, plan_ref: str | None) -> tuple[int | None, int | None]:
    from workflow.plans import find_plan
    from workflow.units import find_unit

    unit_id = find_unit(ctx.session, unit).id if unit else None
    plan_id = find_plan(ctx, plan_ref).id if plan_ref else None
    return unit_id, plan_id


def _listing_options(func: Callable) -> Callable:
    for option in reversed(
        [
            click.option("--unit", help="Lead unit (code or name)."),
            click.option("--plan", "plan_ref", help="Plan (code or number)."),
            click.option(
                "--kind",
                "kinds",
                multiple=True,
                type=click.Choice(KIND_CHOICES),
                help="Kinds of due item (repeatable).",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["table", "json", "csv"]),
                default="table",
                show_default=True,
            ),
        ]
    ):
        func = option(func)
    return func


@cli.command("overdue")
@click.option("--as-of", type=DATE, help="Judge as of this date (default: today).")
@_listing_options
@pass_state
def overdue_cmd(
    state: State,
    as_of: date | None,
    unit: str | None,
    plan_ref: str | None,
    kinds: Sequence[str],
    fmt: str,
) -> None:
    """Deadlines not met by the end of their day (by default task deadlines and occurrences)."""
    with state.engine().context(write=False) as ctx:
        as_of = as_of or ctx.today()
        unit_id, plan_id = _filters(ctx, unit, plan_ref)
        rows = overdue(
            ctx.session,
            as_of,
            unit_id=unit_id,
            plan_id=plan_id,
            kinds=_kinds(kinds, DEADLINE_KINDS),
        )
    _print_rows(rows, fmt, overdue=True)


@cli.command("due")
@click.option("--from", "start", type=DATE, help="First day (default: today).")
@click.option("--to", "end", type=DATE, help="Last day (default: 30 days after --from).")
@_listing_options
@pass_state
def due_cmd(
    state: State,
    start: date | None,
    end: date | None,
    unit: str | None,
    plan_ref: str | None,
    kinds: Sequence[str],
    fmt: str,
) -> None:
    """Open due items falling in a window: what is coming."""
    from datetime import timedelta

    with state.engine().context(write=False) as ctx:
        start = start or ctx.today()
        end = end or start + timedelta(days=30)
        if end < start:
            raise InvalidInput(f"--to {end} is before --from {start}")
        unit_id, plan_id = _filters(ctx, unit, plan_ref)
        rows = upcoming(
            ctx.session,
            start,
            end,
            unit_id=unit_id,
            plan_id=plan_id,
            kinds=_kinds(kinds, ALL_KINDS),
        )
    _print_rows(rows, fmt, overdue=False)


@cli.command("summary")
@click.option("--as-of", type=DATE, help="Judge as of this date (default: today).")
@click.option("--plan", "plan_ref", help="Plan (code or number).")
@pass_state
def summary_cmd(state: State, as_of: date | None, plan_ref: str | None) -> None:
    """The four classes of the monitoring report per lead unit."""
    with state.engine().context(write=False) as ctx:
        as_of = as_of or ctx.today()
        _, plan_id = _filters(ctx, None, plan_ref)
        table = summary(ctx.session, as_of, plan_id=plan_id)
    header = ["lead unit", "on time", "late", "not yet due", "overdue"]
    click.echo(
        _table(
            header, [[unit, *(str(v) for v in counts.values())] for unit, counts in table.items()]
        )
    )


def _print_rows(rows: list[DueRow], fmt: str, overdue: bool) -> None:
    if fmt == "json":
        click.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    header = [
        "task_id",
        "plan",
        "ref",
        "kind",
        "period",
        "due_date",
        "days_overdue" if overdue else "status",
        "lead_units",
        "task",
    ]
    body = [
        [
            str(r.task_id),
            r.plan,
            r.task_ref,
            r.kind,
            r.period,
            r.due_date.isoformat(),
            str(r.days_overdue) if overdue else r.status,
            "; ".join(r.lead_units),
            r.task,
        ]
        for r in rows
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(body)
        click.echo(out.getvalue(), nl=False)
        return
    shortened = [[*row[:-2], row[-2][:40], row[-1][:60]] for row in body]
    click.echo(_table(header, shortened))
    click.echo(f"{len(rows)} items")


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


# --- tasks ---------------------------------------------------------------------------------------


def _user(ctx: Context, username: str) -> User:
    user = ctx.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


@cli.group()
def task() -> None:
    """Tasks: show one, fire a transition, report, review, extend, retime."""


@task.command("show")
@click.argument("task_id", type=int)
@click.option("--as-of", type=DATE, help="Classify due items as of this date (default: today).")
@pass_state
def task_show(state: State, task_id: int, as_of: date | None) -> None:
    """Everything about one task: timing, units, due items, reports and history."""
    from workflow.lifecycle import allowed_events
    from workflow.tasks import get_task

    with state.engine().context(write=False) as ctx:
        as_of = as_of or ctx.today()
        detail = task_detail(ctx.session, get_task(ctx, task_id), as_of)
        t = detail.task
        timing = t.timing
        parsed = timing.kind.value + "".join(
            f", {k} {v}"
            for k, v in (
                ("deadline", timing.deadline),
                ("frequency", timing.frequency and timing.frequency.value),
                ("trigger", timing.trigger),
            )
            if v
        )
        lines = [
            f"task {t.id}  {t.plan.code} ({t.plan.number})  {t.ref}  [{t.status}]  version {t.version}",
            f"  {t.name}",
            f"  lead:        {'; '.join(u.name for u in t.lead_units)}   (as written: {t.lead_units_text})",
            f"  cooperating: {'; '.join(u.name for u in t.cooperating_units) or '-'}",
            f"  timing:      {timing.raw or '(empty)'}  →  {parsed}"
            + ("  [needs review]" if t.needs_review else ""),
            f"  progress:    {t.progress}%   started {t.started_on or '-'}   closed {t.closed_on or '-'}",
            f"  allowed:     {', '.join(allowed_events(t)) or '-'}",
            f"due items (as of {as_of}):",
        ]
        for item, item_class in detail.due_items:
            extra = f" (nominal {item.nominal_date})" if item.nominal_date != item.due_date else ""
            label = f"{item.kind} {vietnamese_period(item.period_key)}"
            if item.kind == "deadline":
                label = "deadline"
            lines.append(
                f"  {item.due_date}{extra}  {label:<34} {item.status:<9} {item_class or 'cancelled'}"
            )
        lines.append("reports:")
        lines += [
            f"  #{r.id} {_local(r.submitted_at)} {r.progress}% {r.status}: {r.text[:70]}"
            for r in detail.reports
        ]
        lines.append("history:")
        for e in detail.history:
            move = (
                f" {e.from_status or '-'} → {e.to_status}" if e.from_status != e.to_status else ""
            )
            who = e.actor.username if e.actor else "system"
            note = f": {e.note[:70]}" if e.note else ""
            lines.append(f"  {_local(e.at)} {who:<16} {e.action}{move}{note}")
    click.echo("\n".join(lines))


def _local(instant: datetime) -> str:
    return f"{instant.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def _report_to_review(ctx: Context, task_id: int, report_id: int | None) -> int:
    if report_id is None:
        report_id = pending_report_id(ctx.session, task_id)
        if report_id is None:
            raise InvalidInput(f"task {task_id} has no report waiting for review")
    elif ctx.session.scalar(sa.select(Report.task_id).where(Report.id == report_id)) != task_id:
        raise InvalidInput(f"report {report_id} is not a report of task {task_id}")
    return report_id


@task.command("fire")
@click.argument("task_id", type=int)
@click.argument(
    "event", type=click.Choice(["start", "report", "accept", "return", "reopen", "cancel"])
)
@click.option("--as", "username", required=True, help="The user who acts.")
@click.option("--note", default="", help="Report text, or the reason (return, reopen, cancel).")
@click.option("--progress", type=click.IntRange(0, 100), help="Progress in percent (report).")
@click.option(
    "--period",
    help="Period the report is for: 2026-11, deadline, or occurrence:2026 "
    "(default: the earliest open reporting period).",
)
@click.option(
    "--report", "report", type=int, help="Report to accept or return (default: the oldest waiting)."
)
@click.option(
    "--version", "expected_version", type=int, help="Refuse if the task changed since this version."
)
@pass_state
def task_fire(
    state: State,
    task_id: int,
    event: str,
    username: str,
    note: str,
    progress: int | None,
    period: str | None,
    report: int | None,
    expected_version: int | None,
) -> None:
    """Fire a lifecycle transition on a task as a given user."""
    from workflow import tasks as svc

    with state.engine().context() as ctx:
        actor, t = _user(ctx, username), svc.get_task(ctx, task_id)
        before = t.status
        if event == "start":
            svc.start_task(ctx, actor, t, expected_version)
        elif event == "report":
            if progress is None:
                raise InvalidInput("--progress: required to report")
            svc.submit_report(
                ctx,
                actor,
                t,
                text=note,
                progress=progress,
                period_key=period,
                expected_version=expected_version,
            )
        elif event == "accept":
            report_id = _report_to_review(ctx, task_id, report)
            svc.accept_report(ctx, actor, report_id, note, expected_version)
        elif event == "return":
            report_id = _report_to_review(ctx, task_id, report)
            svc.return_report(ctx, actor, report_id, note, expected_version)
        elif event == "reopen":
            svc.reopen_task(ctx, actor, t, note, expected_version)
        else:
            svc.cancel_task(ctx, actor, t, note, expected_version)
        click.echo(f"task {task_id}: {before} → {t.status}")


@task.command("timing")
@click.argument("task_id", type=int)
@click.argument("text")
@click.option("--as", "username", required=True)
@pass_state
def task_timing(state: State, task_id: int, text: str, username: str) -> None:
    """Correct a task's timing text; its due items follow."""
    from workflow import tasks as svc

    with state.engine().context() as ctx:
        t = svc.get_task(ctx, task_id)
        changed = svc.change_timing(ctx, _user(ctx, username), t, text)
        click.echo(f"task {task_id}: timing {'now ' + t.timing_kind if changed else 'unchanged'}")


@task.command("extend")
@click.argument("task_id", type=int)
@click.option("--as", "username", required=True)
@click.option("--reason", required=True)
@click.option("--period", help="Period key of the due item (default: the earliest open).")
@click.option("--date", "proposed", type=DATE, help="The date asked for.")
@pass_state
def task_extend(
    state: State,
    task_id: int,
    username: str,
    reason: str,
    period: str | None,
    proposed: date | None,
) -> None:
    """Ask for an extension of a due item (đề nghị gia hạn)."""
    from workflow import tasks as svc

    with state.engine().context() as ctx:
        t = svc.get_task(ctx, task_id)
        request = svc.request_extension(
            ctx, _user(ctx, username), t, reason=reason, period_key=period, proposed_date=proposed
        )
        click.echo(f"extension request {request.id} for task {task_id} is waiting for the Office")


@task.command("decide-extension")
@click.argument("request_id", type=int)
@click.option("--as", "username", required=True)
@click.option("--grant/--refuse", required=True)
@click.option(
    "--date", "new_date", type=DATE, help="New date when granting (default: the date asked for)."
)
@click.option("--note", default="", help="Reason (required when refusing).")
@pass_state
def task_decide(
    state: State, request_id: int, username: str, grant: bool, new_date: date | None, note: str
) -> None:
    """Grant or refuse an extension request."""
    from workflow import tasks as svc

    with state.engine().context() as ctx:
        request = svc.decide_extension(
            ctx, _user(ctx, username), request_id, grant=grant, new_date=new_date, note=note
        )
        click.echo(
            f"extension request {request_id}: {request.status}"
            + (f", due {request.due_item.due_date}" if grant else "")
        )


@cli.group()
def trigger() -> None:
    """Guidance documents that release waiting tasks."""


@trigger.command("record")
@click.argument("task_ids", type=int, nargs=-1, required=True)
@click.option("--as", "username", required=True)
@click.option("--number", required=True, help="Document number, e.g. 12/HD-BKHCN.")
@click.option("--date", "issued_on", type=DATE, required=True)
@click.option("--issuer", required=True)
@click.option("--title", default="")
@pass_state
def trigger_record(
    state: State,
    task_ids: Sequence[int],
    username: str,
    number: str,
    issued_on: date,
    issuer: str,
    title: str,
) -> None:
    """Record a guidance document and release the waiting tasks it concerns."""
    from workflow import tasks as svc

    with state.engine().context() as ctx:
        document = svc.record_trigger(
            ctx,
            _user(ctx, username),
            number=number,
            issued_on=issued_on,
            issuer=issuer,
            task_ids=task_ids,
            title=title,
        )
        click.echo(
            f"document {document.number} recorded; released tasks {', '.join(map(str, task_ids))}"
        )


# --- users ---------------------------------------------------------------------------------------


# --- reminders, escalation, the scheduler ---------------------------------------------------------


@cli.group()
def rules() -> None:
    """Escalation rules (rules/*.toml)."""


@rules.command("check")
@click.option(
    "--rules-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: the instance's."
)
@pass_state
def rules_check(state: State, rules_dir: Path | None) -> None:
    """Validate the rule files; name each rule and the units it applies to."""
    from workflow.models import Unit
    from workflow.rules import load_rules

    settings = load_settings(state.instance, state.database_url)
    loaded = load_rules(rules_dir or settings.rules_dir)
    click.echo(f"{loaded.default.source}: the default rule")
    if rules_dir is not None:
        return
    with state.engine().context(write=False) as ctx:
        codes = set(ctx.session.scalars(sa.select(Unit.code)))
    for code, rule in sorted(loaded.by_unit.items()):
        known = "" if code in codes else " (no unit has this code: the file applies to nothing)"
        click.echo(f"{rule.source}: tasks led by {code}{known}")


@rules.command("explain")
@click.argument("task_id", type=int)
@click.option("--as-of", type=DATE, help="Judge as of this date (default: today).")
@pass_state
def rules_explain(state: State, task_id: int, as_of: date | None) -> None:
    """Which rule applies to a task, and what fires when for each of its open due items."""
    from workflow.escalation import explain
    from workflow.tasks import get_task

    with state.engine().context(write=False) as ctx:
        task = get_task(ctx, task_id)
        for line in explain(ctx, task, as_of or ctx.today()):
            click.echo(line)


@cli.command()
@pass_state
def sweep(state: State) -> None:
    """Fire the reminders and escalation steps due today, once (the scheduler's job)."""
    from workflow.escalation import sweep as run_sweep

    with state.engine().context() as ctx:
        result = run_sweep(ctx)
    click.echo(
        f"{result.fired} steps fired: {result.notified} notices, {result.emailed} e-mails queued"
    )


@cli.command()
@pass_state
def digest(state: State) -> None:
    """Write today's morning digest for everyone who has not had it (the scheduler's job)."""
    from workflow.digest import morning_digest

    with state.engine().context() as ctx:
        result = morning_digest(ctx)
    click.echo(f"digest sent to {result.sent} people ({result.skipped} had nothing due)")


@cli.command()
@pass_state
def scheduler(state: State) -> None:
    """Run the scheduled jobs until stopped; only one scheduler fires at a time."""
    import logging

    from workflow.scheduler import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = state.engine()
    schedule = engine.settings.schedule
    click.echo(
        f"nhiemvu scheduler: sweep every {schedule.sweep_minutes} min, mail every "
        f"{schedule.deliver_seconds} s, digest at {schedule.digest_time:%H:%M} (Ctrl+C to stop)"
    )
    run_forever(engine)


@cli.group()
def calendar() -> None:
    """Calendar feeds: write one to a file."""


@calendar.command("export")
@click.option(
    "--unit", "unit_code", required=True, help="The unit whose tasks' deadlines to write."
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)."
)
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the web app is, for the links to each task.",
)
@pass_state
def calendar_export(state: State, unit_code: str, output: Path | None, base_url: str) -> None:
    """Write a unit's deadline feed (iCalendar) as the web app would serve it."""
    from workflow import calendars
    from workflow.models import Unit

    with state.engine().context(write=False) as ctx:
        unit = ctx.session.scalar(sa.select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise NotFound(f"unit {unit_code!r} does not exist")
        window = calendars.Window.configured(ctx.settings, ctx.today())
        feed = calendars.unit_feed(unit)
        text = calendars.build_feed(ctx.session, feed, window, base_url, ctx.rules)
    if output is None:
        click.echo(text.decode("utf-8"), nl=False)
    else:
        output.write_bytes(text)
        click.echo(f"{output}: {text.count(b'BEGIN:VEVENT')} events", err=True)


# --- e-mail --------------------------------------------------------------------------------------


@cli.group()
def mail() -> None:
    """E-mail: deliver the outbox now, see what waits."""


@mail.command("send")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@pass_state
def mail_send(state: State, limit: int) -> None:
    """Send now the e-mails whose time has come."""
    from workflow.mail import deliver

    engine = state.engine()
    if not engine.settings.smtp.enabled:
        raise NhiemvuError("e-mail is off: set host in the [smtp] table of instance/config.toml")
    result = deliver(engine, limit=limit)
    click.echo(f"sent {result.sent}, failed {result.failed}, waiting {result.waiting}")
    if result.server_error:
        raise NhiemvuError(result.server_error)


@mail.command("queue")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@pass_state
def mail_queue(state: State, limit: int) -> None:
    """The e-mails not sent yet and those given up, with the last error of each."""
    from workflow.mail import outbox_summary, unsent

    engine = state.engine()
    with engine.context(write=False) as ctx:
        summary = outbox_summary(ctx.session, ctx.now())
        rows = unsent(ctx.session, limit)
    if rows:
        header = ["id", "status", "attempts", "next attempt", "to", "subject", "last error"]
        click.echo(
            _table(
                header,
                [
                    [
                        str(r.id),
                        r.status,
                        str(r.attempts),
                        _local(r.next_attempt_at) if r.status == "pending" else "-",
                        r.to_address,
                        r.subject[:50],
                        r.last_error[:70],
                    ]
                    for r in rows
                ],
            )
        )
    click.echo(
        f"{summary.pending} waiting ({summary.due} due now, {summary.retrying} after an error), "
        f"{summary.failed} failed, {summary.sent} sent"
    )
    if not engine.settings.smtp.enabled:
        click.echo("e-mail is off ([smtp] host not set): nothing will be sent", err=True)


@cli.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", help="Unit code (required for unit roles).")
@click.option("--email")
@pass_state
def user_add(
    state: State, username: str, full_name: str, role: str, unit: str | None, email: str | None
) -> None:
    """Create an account (set its password with `password set`)."""
    from workflow.administration import create_user
    from workflow.units import find_unit

    with state.engine().context() as ctx:
        unit_row = find_unit(ctx.session, unit) if unit else None
        create_user(
            ctx,
            None,  # the operator on the host
            username=username,
            full_name=full_name,
            role=role,
            unit_id=unit_row.id if unit_row else None,
            email=email,
        )
    click.echo(f"user {username} ({role}) created")


# --- benchmarks ----------------------------------------------------------------------------------


@cli.group()
def bench() -> None:
    """Data for benchmarks."""


@bench.command("generate")
@click.option("--tasks", type=click.IntRange(1), required=True, help="How many tasks.")
@click.option("--units", type=click.IntRange(2, 999), default=60, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option("--as-of", type=DATE, help="The day the states are as of [default: 2026-11-22].")
@click.option(
    "--password",
    help="Every generated account's password (default: a new random one, printed).",
)
@pass_state
def bench_generate(
    state: State,
    tasks: int,
    units: int,
    seed: int,
    as_of: date | None,
    password: str | None,
) -> None:
    """Fill an empty database with a deterministic dataset of provincial size."""
    import secrets
    import time

    from workflow.bench_data import DEFAULT_AS_OF, Shape, generate

    shape = Shape(tasks=tasks, units=units, seed=seed, as_of=as_of or DEFAULT_AS_OF)
    password = password or secrets.token_urlsafe(12)
    engine = state.engine(require_schema=False)
    migrate.upgrade(engine.database)
    started = time.perf_counter()
    with engine.context() as ctx:
        made = generate(ctx, shape, password, lambda line: click.echo(line, err=True))
    states = ", ".join(f"{n:,} {s}" for s, n in sorted(made.states.items()))
    click.echo(
        f"{made.units} units, {made.users} users, {made.plans} plan{'s' if made.plans > 1 else ''}, "
        f"{made.tasks:,} tasks "
        f"({states}), {made.due_items:,} due items, {made.reports:,} reports, "
        f"{made.events:,} history rows in {time.perf_counter() - started:.1f} s"
    )
    click.echo(
        f"accounts: u01.head … u{units:02d}.head, bench.office, bench.leader, "
        f"bench.admin; password {password}"
    )


if __name__ == "__main__":
    main()
