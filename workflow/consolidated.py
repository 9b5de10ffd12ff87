"""The Office's consolidated report on a plan for a reporting period (báo cáo tổng hợp).

What goes into the Word report and its Excel annex (:mod:`workflow.report_docx`,
:mod:`workflow.report_xlsx`), gathered once: the plan, the period and the date the figures are
as of; the four classes of the plan's due items, overall and per lead unit, counted by the
overdue board itself (:func:`workflow.board.per_plan`, :func:`workflow.board.per_unit`, the
board's default kinds); each task's result as of that date, under its appendix section; the
tasks waiting for central guidance; and the difficulties and proposals units wrote with their
reports during the period.

The figures are as of the period's report date under the plan's regime, or today while that
date is still ahead. Reading changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from workflow import board
from workflow.classify import DueClass
from workflow.clock import end_of_day, local_date
from workflow.context import Context
from workflow.errors import InvalidInput
from workflow.indicators import IndicatorStanding
from workflow.messages import N_, Message
from workflow.models import Plan, Report, Task, TaskEvent, Unit, User
from workflow.plan_view import PlanAppendix, plan_appendix
from workflow.plans import own_plan
from workflow.regime import Period, ReportingRegime, parse_period, vietnamese_period
from workflow.wording import CLASS_VI, INDICATOR_STATUS_VI, STATE_VI

KINDS = board.KIND_FILTERS["tasks"]  # what the board counts by default
MAX_NAMED_PERIODS = 12  # periods a refusal names, the newest first


@dataclass(frozen=True)
class TaskResult:
    """One task's line of the report, as of the report's date."""

    task_id: int
    number: str  # STT, as the appendix numbers it
    name: str
    lead_units: str
    state: str  # the lifecycle state it was in
    progress: int  # per cent, from the latest report counted
    report_text: str
    report_date: date | None
    due_class: DueClass | None  # None: nothing of it is counted (waiting, periodic reports only)


@dataclass(frozen=True)
class SectionResults:
    number: str  # "" for tasks listed before any section
    title: str
    tasks: list[TaskResult]


@dataclass(frozen=True)
class Difficulty:
    task_number: str
    task_name: str
    text: str
    reported_on: date


@dataclass(frozen=True)
class UnitDifficulties:
    unit: str
    items: list[Difficulty]


@dataclass(frozen=True)
class Letterhead:
    """Who issues the report, as the header of a Vietnamese administrative document names it."""

    governing_body: str  # cơ quan chủ quản: "" when the issuer has none
    issuing_body: str
    place: str  # địa danh: "Lai Châu"
    symbol: str  # ký hiệu: "BC-SKHCN"


@dataclass(frozen=True)
class ConsolidatedReport:
    plan: Plan
    period: Period
    as_of: date
    made_on: date
    overall: board.Counts
    by_unit: list[board.Counts]
    sections: list[SectionResults]
    waiting: list[board.WaitingTask]
    difficulties: list[UnitDifficulties]
    indicators: list[IndicatorStanding]  # indicators.indicator_standings as of ``as_of``
    letterhead: Letterhead

    @property
    def period_words(self) -> str:
        """``quý IV/2026``."""
        return vietnamese_period(self.period.key)

    @property
    def tasks(self) -> list[TaskResult]:
        return [task for section in self.sections for task in section.tasks]


# --- periods -------------------------------------------------------------------------------------


def offered_periods(plan: Plan, today: date) -> list[Period]:
    """The periods a consolidated report on ``plan`` may be for, the newest first: every period
    of its regime that has begun by ``today`` and whose report date is not before the plan was
    issued (from the start of last year when the plan has no date)."""
    regime = ReportingRegime.parse(plan.reporting_regime)
    first = plan.issued_on or date(today.year - 1, 1, 1)
    periods = regime.every_period(first, date(today.year + 1, 12, 31))
    return sorted((p for p in periods if parse_period(p.key).first_day <= today), reverse=True)


def report_period(plan: Plan, key: str, today: date) -> Period:
    """The period ``key`` names among the plan's; one message naming the plan's periods if not."""
    period = ReportingRegime.parse(plan.reporting_regime).period(key)
    offered = offered_periods(plan, today)
    if period is None or period not in offered:
        raise InvalidInput(
            N_(
                "plan %(plan)s has no reporting period %(period)s (its regime: %(regime)s); "
                "its periods up to now: %(periods)s"
            ),
            plan=plan.number,
            period=key.strip(),
            regime=str(ReportingRegime.parse(plan.reporting_regime)),
            periods=[p.key for p in offered[:MAX_NAMED_PERIODS]] or Message(N_("none")),
        )
    return period


def report_periods(ctx: Context, actor: User, plan_ref: str) -> list[Period]:
    """The periods the actor may choose for a report on the plan (its code or number)."""
    plan = _readable_plan(ctx, actor, plan_ref)
    return offered_periods(plan, ctx.today())


def _readable_plan(ctx: Context, actor: User, plan_ref: str) -> Plan:
    board.require_board(actor)
    return own_plan(ctx, actor, plan_ref, N_("report on plan %(plan)s"))


# --- the report ----------------------------------------------------------------------------------


def build_report(
    ctx: Context, actor: User, plan_ref: str, period_key: str, *, today: date | None = None
) -> ConsolidatedReport:
    """The consolidated report on the plan ``plan_ref`` (code or number) for ``period_key``.

    For the Office and leadership (those who read the overdue board), within their
    organisation. ``today`` defaults to the context's.
    """
    today = today or ctx.today()
    plan = _readable_plan(ctx, actor, plan_ref)
    period = report_period(plan, period_key, today)
    as_of = min(period.nominal_date, today)
    session = ctx.session
    scope = board.organisation_unit_ids(session, actor)
    totals = board.per_plan(session, as_of, scope, plan_id=plan.id, kinds=KINDS)
    regime = ReportingRegime.parse(plan.reporting_regime)
    since = regime.previous(period).nominal_date + timedelta(days=1)
    appendix = plan_appendix(session, actor, plan.code, as_of)
    states = _states(session, plan.id, as_of)
    return ConsolidatedReport(
        plan=plan,
        period=period,
        as_of=as_of,
        made_on=today,
        overall=totals[0] if totals else _no_counts(plan),
        by_unit=board.per_unit(session, as_of, scope, plan_id=plan.id, kinds=KINDS),
        sections=_sections(session, appendix, scope, as_of, states),
        indicators=appendix.indicators,
        waiting=board.waiting_tasks(
            session,
            scope,
            as_of,
            plan_id=plan.id,
            task_ids=[task_id for task_id, state in states.items() if state == "waiting"],
        ),
        difficulties=_difficulties(session, plan.id, since, as_of),
        letterhead=letterhead(plan),
    )


def _no_counts(plan: Plan) -> board.Counts:
    return board.Counts(plan.id, plan.number, plan.code, 0, 0, 0, 0, None, 0)


def _counted(plan_id: int, until: date) -> sa.Select:
    """The plan's reports submitted by the end of ``until``, except those already returned by
    then (the Office refused them)."""
    end = end_of_day(until)
    return (
        sa.select(Report)
        .join(Task, Report.task_id == Task.id)
        .where(
            Task.plan_id == plan_id,
            Report.submitted_at < end,
            sa.or_(Report.status != "returned", Report.reviewed_at >= end),
        )
        .order_by(Report.submitted_at, Report.id)
    )


def _latest_reports(session: Session, plan_id: int, as_of: date) -> dict[int, Report]:
    latest: dict[int, Report] = {}
    for report in session.scalars(_counted(plan_id, as_of)):
        latest[report.task_id] = report
    return latest


def _states(session: Session, plan_id: int, as_of: date) -> dict[int, str]:
    """Each task's state at the end of ``as_of``, from its history (appended in time order):
    the state its last event by then left it in."""
    last = (
        sa.select(sa.func.max(TaskEvent.id))
        .join(Task, TaskEvent.task_id == Task.id)
        .where(
            Task.plan_id == plan_id,
            TaskEvent.at < end_of_day(as_of),
            TaskEvent.to_status.is_not(None),
        )
        .group_by(TaskEvent.task_id)
    )
    rows = session.execute(
        sa.select(TaskEvent.task_id, TaskEvent.to_status).where(TaskEvent.id.in_(last))
    )
    return {task_id: status for task_id, status in rows}


def _sections(
    session: Session,
    appendix: PlanAppendix,
    scope: Sequence[int] | None,
    as_of: date,
    states: dict[int, str],
) -> list[SectionResults]:
    plan = appendix.plan
    classes = board.task_classes(session, as_of, scope, plan.id, kinds=KINDS)
    reports = _latest_reports(session, plan.id, as_of)
    sections = []
    for block in appendix.sections:
        results = []
        for task in block.tasks:
            report = reports.get(task.id)
            results.append(
                TaskResult(
                    task_id=task.id,
                    number=task.number or task.ref,
                    name=task.name,
                    lead_units="; ".join(u.name for u in task.lead_units) or task.lead_units_text,
                    state=states.get(task.id, "draft"),
                    progress=report.progress if report else 0,
                    report_text=report.text if report else "",
                    report_date=local_date(report.submitted_at) if report else None,
                    due_class=classes.get(task.id),
                )
            )
        section = block.section
        sections.append(
            SectionResults(
                section.number if section else "", section.title if section else "", results
            )
        )
    return sections


def _difficulties(
    session: Session, plan_id: int, since: date, as_of: date
) -> list[UnitDifficulties]:
    """What units wrote as difficulties and proposals with their reports from ``since`` to
    ``as_of``: the latest such report of each task, per reporting unit (its lead units' when
    the report was written by someone without a unit)."""
    query = (
        _counted(plan_id, as_of)
        .where(
            Report.submitted_at >= end_of_day(since - timedelta(days=1)), Report.difficulties != ""
        )
        .options(
            selectinload(Report.submitted_by).joinedload(User.unit),
            selectinload(Report.task).selectinload(Task.unit_links),
        )
    )
    latest: dict[int, Report] = {}
    for report in session.scalars(query):
        latest[report.task_id] = report
    by_unit: dict[str, list[Difficulty]] = {}
    for report in sorted(latest.values(), key=lambda r: (r.task.position, r.task_id)):
        task = report.task
        unit = report.submitted_by.unit
        name = unit.name if unit else "; ".join(u.name for u in task.lead_units)
        by_unit.setdefault(name or task.lead_units_text, []).append(
            Difficulty(
                task_number=task.number or task.ref,
                task_name=task.name,
                text=report.difficulties,
                reported_on=local_date(report.submitted_at),
            )
        )
    return [UnitDifficulties(unit, items) for unit, items in sorted(by_unit.items())]


# --- who issues it -------------------------------------------------------------------------------

_PLACE = re.compile(r"\b(?:tỉnh|thành phố|phường|xã|thị trấn|huyện|quận|thị xã)\s+(.+)$", re.I)
_SYMBOL = re.compile(r"/\s*KH\s*-\s*(\S+)\s*$", re.I)


def letterhead(plan: Plan) -> Letterhead:
    """The header of the report: the plan's issuer under its governing body, the place named
    by the organisation's top unit ("Ủy ban nhân dân tỉnh Lai Châu": Lai Châu), and the
    report's symbol from the plan's ("546/KH-VPUBND": BC-VPUBND)."""
    issuer: Unit | None = plan.issuer
    issuing = issuer.name if issuer else plan.issuer_text
    governing = issuer.parent.name if issuer and issuer.parent else ""
    top = issuer.lineage()[-1].name if issuer else plan.issuer_text
    place = _PLACE.search(top)
    symbol = _SYMBOL.search(plan.number)
    code = symbol[1] if symbol else (issuer.code if issuer else "")
    return Letterhead(
        governing_body=governing,
        issuing_body=issuing,
        place=place[1].strip() if place else top,
        symbol=f"BC-{code}" if code else "BC",
    )


# --- the task table, shared by the Word report and the Excel annex --------------------------------

TABLE_HEADER = (
    "STT",
    "Nhiệm vụ",
    "Đơn vị chủ trì",
    "Trạng thái",
    "Tiến độ (%)",
    "Kết quả thực hiện (báo cáo gần nhất)",
    "Ngày báo cáo",
    "Đánh giá",
)


@dataclass(frozen=True)
class TableRow:
    """A row of the task table: a section heading (its number and title, the rest empty) or a
    task: STT, name, lead units, state, progress, latest report, its date, class."""

    heading: bool
    cells: tuple[str | int | date | None, ...]


def table_rows(report: ConsolidatedReport) -> list[TableRow]:
    """The rows of the results table, the same in the Word report and in the Excel annex."""
    rows: list[TableRow] = []
    for section in report.sections:
        if section.number or section.title:
            rows.append(TableRow(True, (section.number, section.title, "", "", None, "", None, "")))
        for task in section.tasks:
            state = STATE_VI.get(task.state, task.state)
            rows.append(
                TableRow(
                    False,
                    (
                        task.number,
                        task.name,
                        task.lead_units,
                        state[:1].upper() + state[1:],
                        task.progress,
                        task.report_text,
                        task.report_date,
                        CLASS_VI[task.due_class] if task.due_class else "",
                    ),
                )
            )
    return rows


UNIT_HEADER = (
    "STT",
    "Đơn vị chủ trì",
    *(CLASS_VI[c] for c in DueClass),
    "Quá hạn lâu nhất từ",
    "Tổng số ngày quá hạn",
)


def unit_rows(report: ConsolidatedReport) -> list[tuple[int | str | date | None, ...]]:
    """The figures per lead unit, the most overdue first, the same in both files."""
    units = sorted(report.by_unit, key=lambda c: (-c.overdue, c.name))
    return [
        (
            index,
            unit.name,
            *(unit.classes[c] for c in DueClass),
            unit.oldest_overdue,
            unit.days_late,
        )
        for index, unit in enumerate(units, start=1)
    ]


INDICATOR_HEADER = (
    "STT",
    "Mã số",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Mục tiêu",
    "Kết quả",
    "Kỳ số liệu",
    "Nguồn số liệu",
    "Đánh giá",
)


def indicator_rows(report: ConsolidatedReport) -> list[TableRow]:
    """The rows of the indicators table, the same in the Word report and in the Excel annex:
    a heading row per section, then each indicator's latest value as of the report's date,
    as the unit wrote it."""
    rows: list[TableRow] = []
    section = None
    for standing in report.indicators:
        indicator, latest = standing.indicator, standing.latest
        if standing.section_title and standing.section_title != section:
            section = standing.section_title
            number = indicator.section.number if indicator.section else ""
            rows.append(TableRow(True, (number, "", section, *[""] * 6)))
        target = indicator.target_text
        if indicator.horizon_year and target:
            target = f"{target} (năm {indicator.horizon_year})"
        rows.append(
            TableRow(
                False,
                (
                    indicator.number or indicator.ref,
                    indicator.code or "",
                    indicator.name,
                    indicator.measure,
                    target,
                    latest.value_text if latest else "",
                    vietnamese_period(latest.period_key) if latest else "",
                    latest.source_note if latest else "",
                    INDICATOR_STATUS_VI[standing.status],
                ),
            )
        )
    return rows


def file_name(report: ConsolidatedReport, extension: str) -> str:
    """``bao-cao-<plan code>-2026-Q4.docx``."""
    return f"bao-cao-{report.plan.code}-{report.period.key}.{extension}"
