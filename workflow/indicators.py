"""Indicators (chỉ tiêu) and the values units report for them.

An indicator's target is read on import (:mod:`workflow.importer`): a comparator (≥ > ≤ < =,
or none) and a number, or words ("Đạt mức trung bình ở các lĩnh vực quan trọng…"), or nothing
(the Vĩnh Tuy plan lists its national indicators 0407–0412 without targets). Units report a
value per period (the regime's keys: ``2026``, ``2026-H1``, ``2026-Q4``, ``2026-11``); the
values are append-only rows (:class:`~workflow.models.IndicatorValue`): a correction is a new
row, so the rows in order are the history, and the latest row of a period is its value.

:func:`classify` is the single home of the rule that judges a value against its target;
:func:`indicator_standings` the one query that the leadership board and the reports read.
"""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, joinedload, selectinload

from workflow.clock import end_of_day
from workflow.context import Context
from workflow.errors import InvalidInput, NotFound
from workflow.messages import N_, Message
from workflow.models import ASSESSMENTS, Indicator, IndicatorUnit, IndicatorValue, Plan, User
from workflow.permissions import Action, can_on_indicator, require_on_indicator
from workflow.regime import PeriodSpan, parse_period
from workflow.text import clean, fold, fold_key

VALUE_LENGTH = 255  # IndicatorValue.value_text
NOTE_LENGTH = 5000
MAX_DECIMALS = 4  # IndicatorValue.value is Numeric(18, 4): more would be rounded silently
RANK_WORDS = ("thu bac", "thu hang", "xep hang")  # measures where a lower number is better


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"


class TargetKind(StrEnum):
    NUMBER = "number"  # a number, with or without a comparator: compared
    WORDS = "words"  # a target written in words: the reporter assesses it
    NONE = "none"  # no target: values are shown, not judged


_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "≥": operator.ge,
    ">": operator.gt,
    "≤": operator.le,
    "<": operator.lt,
    "=": operator.eq,
}


def is_rank(measure: str | None) -> bool:
    """Whether the unit of measure is a rank (Thứ bậc, thứ hạng, xếp hạng): lower is better."""
    key = fold_key(measure)
    return any(word in key for word in RANK_WORDS)


def target_kind(indicator: Indicator) -> TargetKind:
    if indicator.target_value is not None:
        return TargetKind.NUMBER
    return TargetKind.WORDS if clean(indicator.target_text) else TargetKind.NONE


def comparator(indicator: Indicator) -> str | None:
    """The comparator a numeric target is judged by: as written, else "at least" (≥), or "at
    most" (≤) for a rank; None for a target that is not a number."""
    if target_kind(indicator) is not TargetKind.NUMBER:
        return None
    return indicator.comparator or ("≤" if is_rank(indicator.measure) else "≥")


def classify(indicator: Indicator, reported: IndicatorValue | None) -> Status:
    """How ``reported`` stands against the indicator's target: the single home of the rule.

    - no value: ``no_data``; no target: ``no_target`` (the value is shown, not judged);
    - a numeric target: the number compared by :func:`comparator` (a percentage compares the
      numbers: 45 % against ≥ 40 is 45 ≥ 40); a value that holds no number (reported while
      the target was words, before a new import gave it a number) cannot be compared:
      ``no_data``;
    - a target in words: the reporter's assessment (required when such a value is recorded).
    """
    if reported is None:
        return Status.NO_DATA
    kind = target_kind(indicator)
    if kind is TargetKind.NONE:
        return Status.NO_TARGET
    if kind is TargetKind.WORDS:
        if reported.assessment is None:
            return Status.NO_DATA
        return Status.MET if reported.assessment == "met" else Status.NOT_MET
    if reported.value is None:
        return Status.NO_DATA
    holds = _COMPARE[comparator(indicator)](Decimal(reported.value), indicator.target_value)
    return Status.MET if holds else Status.NOT_MET


# --- reading a value -------------------------------------------------------------------------

# Vietnamese writing: "," is the decimal mark, "." groups thousands (1.234,5). A dot followed
# by anything but groups of three digits (0.65, 45.5) is not read: guessing a decimal point
# would turn 1.234 (one thousand two hundred and thirty-four) into 1,234.
_NUMBER = re.compile(r"^(-)?(\d+|\d{1,3}(?:\.\d{3})+)(?:,(\d+))?$")
_RANK_PREFIX = re.compile(r"^(?:xep hang|thu hang|thu bac|hang thu|hang|thu)\b\s*")


def read_number(text: str) -> Decimal | None:
    """The number ``text`` holds, or None when it holds none.

    Accepted, after Unicode and space normalisation: digits with a decimal comma (``45``,
    ``45,5``, ``0,65``, ``-2,5``); dots grouping thousands by three (``1.234``, ``1.234,5``);
    a percent sign after it, with or without a space (``45 %``, ``45,5%``: the number is 45,5);
    a rank's words before it (``hạng 50``, ``thứ 50``, ``thứ hạng 50``, ``xếp hạng 50``,
    ``thứ bậc 50``, also
    without diacritics). Not accepted: a decimal point (``0.65``), spaces inside the number,
    words after it, several numbers.
    """
    cleaned = clean(text)
    rank = _RANK_PREFIX.match(fold(cleaned))
    if rank:
        cleaned = cleaned[rank.end() :]
    cleaned = cleaned.removesuffix("%").rstrip()
    match = _NUMBER.match(cleaned)
    if not match:
        return None
    sign, whole, decimals = match[1] or "", match[2].replace(".", ""), match[3]
    return Decimal(f"{sign}{whole}.{decimals}" if decimals else f"{sign}{whole}")


def format_number(value: Decimal) -> str:
    """A number the way :func:`read_number` reads it back: ``0,623``, ``1.234,5``, ``40``."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "-" if text.startswith("-") else ""
    whole, _, decimals = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{grouped},{decimals}" if decimals else f"{sign}{grouped}"


@dataclass(frozen=True)
class Reading:
    value: Decimal | None
    text: str


def read_value(indicator: Indicator, text: str | None) -> Reading:
    """A reported value checked against what the indicator needs; refused with a message naming
    the field. A numeric target needs a number; a target in words or none takes words too."""
    text = clean(text)
    if not text:
        raise InvalidInput(N_("%(field)s: required"), field=Message(N_("value")))
    if len(text) > VALUE_LENGTH:
        raise InvalidInput(
            N_("%(field)s: at most %(most)s characters"),
            field=Message(N_("value")),
            most=VALUE_LENGTH,
        )
    number = read_number(text)
    if number is None and target_kind(indicator) is TargetKind.NUMBER:
        raise InvalidInput(
            N_(
                "%(field)s: %(value)s is not a number (write it as 45, 45,5, 1.234,5, "
                "45 %% or hạng 50)"
            ),
            field=Message(N_("value")),
            value=repr(text),
        )
    if number is not None and -number.as_tuple().exponent > MAX_DECIMALS:
        raise InvalidInput(
            N_("%(field)s: %(value)s has more than %(count)s decimals"),
            field=Message(N_("value")),
            value=repr(text),
            count=MAX_DECIMALS,
        )
    return Reading(number, text)


def _assessment(indicator: Indicator, given: str | None) -> str | None:
    given = (given or "").strip() or None
    if target_kind(indicator) is TargetKind.WORDS:
        if given not in ASSESSMENTS:
            raise InvalidInput(
                N_("%(field)s: required for a target written in words (met or not met)"),
                field=Message(N_("assessment")),
            )
        return given
    if given is not None:
        raise InvalidInput(
            N_("%(field)s: only for a target written in words; this one is judged by its value"),
            field=Message(N_("assessment")),
        )
    return None


def _period(ctx: Context, indicator: Indicator, text: str) -> PeriodSpan:
    """A period that has begun, and not before the year ahead of the plan's (a baseline)."""
    span = parse_period(text)
    issued = indicator.plan.issued_on
    if issued is not None and span.first_day.year < issued.year - 1:
        raise InvalidInput(
            N_("%(field)s: %(period)s is before plan %(plan)s (issued %(issued)s)"),
            field=Message(N_("period")),
            period=span.key,
            plan=indicator.plan.number,
            issued=issued,
        )
    if span.first_day > ctx.today():
        raise InvalidInput(
            N_("%(field)s: %(period)s has not begun yet (today is %(today)s)"),
            field=Message(N_("period")),
            period=span.key,
            today=ctx.today(),
        )
    return span


# --- recording -------------------------------------------------------------------------------


def get_indicator(session: Session, indicator_id: int) -> Indicator:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise NotFound(N_("indicator %(indicator)s does not exist"), indicator=indicator_id)
    return indicator


def record_indicator_value(
    ctx: Context,
    actor: User,
    indicator_id: int,
    period: str,
    value_text: str,
    source_note: str = "",
    assessment: str | None = None,
) -> IndicatorValue:
    """A lead unit (or the Office of the plan's organisation) reports the indicator's value for
    ``period``; a second report of a period is its correction. Everything is checked before
    anything is written, within the caller's transaction."""
    indicator = get_indicator(ctx.session, indicator_id)
    require_on_indicator(actor, Action.REPORT, indicator)
    span = _period(ctx, indicator, period)
    reading = read_value(indicator, value_text)
    judged = _assessment(indicator, assessment)
    note = clean(source_note)
    if len(note) > NOTE_LENGTH:
        raise InvalidInput(
            N_("%(field)s: at most %(most)s characters"),
            field=Message(N_("source")),
            most=NOTE_LENGTH,
        )
    row = IndicatorValue(
        indicator=indicator,
        period_key=span.key,
        value=reading.value,
        value_text=reading.text,
        assessment=judged,
        source_note=note,
        unit=actor.unit,
        reported_by=actor,
        reported_at=ctx.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


class IndicatorValueRewritten(RuntimeError):
    """A bug: some code changed or deleted a reported value instead of adding a correction."""


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context, _instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, IndicatorValue) and (obj in session.deleted or session.is_modified(obj)):
            raise IndicatorValueRewritten("indicator values are append-only")


# --- reading back ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorStanding:
    """Where one indicator stands as of a day: its latest value (None: nothing reported yet),
    the status of that value, and how many values its history held by then."""

    indicator: Indicator
    section_title: str
    latest: IndicatorValue | None
    status: Status
    values: int

    @property
    def period_key(self) -> str | None:
        return self.latest.period_key if self.latest else None


def _last_of_each_period(rows: Sequence[IndicatorValue]) -> dict[str, IndicatorValue]:
    """Each period's value as last corrected: ``rows`` in the order they were reported."""
    return {row.period_key: row for row in rows}


def _latest(rows: Sequence[IndicatorValue]) -> IndicatorValue | None:
    """The value of the latest period (the widest when periods end together: the year before
    its last quarter and month), as last corrected."""
    by_period = _last_of_each_period(rows)
    if not by_period:
        return None

    def order(key: str) -> tuple[date, timedelta]:
        span = parse_period(key)
        return span.last_day, span.last_day - span.first_day

    return by_period[max(by_period, key=order)]


def _standing(indicator: Indicator, rows: Sequence[IndicatorValue]) -> IndicatorStanding:
    latest = _latest(rows)
    return IndicatorStanding(
        indicator=indicator,
        section_title=indicator.section.title if indicator.section else "",
        latest=latest,
        status=classify(indicator, latest),
        values=len(rows),
    )


def indicator_standings(
    session: Session, plan_id: int | None, as_of: date, unit_ids: Iterable[int] | None = None
) -> list[IndicatorStanding]:
    """Every indicator of the plan in appendix order (of every plan, plan by plan, when
    ``plan_id`` is None), as it stood at the end of ``as_of`` (Vietnam time): values reported
    later are not seen. With ``unit_ids``, only the indicators one of those units leads. No
    permission check: the caller has checked the reader may see them. A fixed number of
    queries whatever the number of indicators and values."""
    query = (
        sa.select(Indicator)
        .order_by(Indicator.plan_id, Indicator.position, Indicator.id)
        .options(
            selectinload(Indicator.unit_links),
            selectinload(Indicator.section),
            joinedload(Indicator.plan),
        )
    )
    if plan_id is not None:
        query = query.where(Indicator.plan_id == plan_id)
    if unit_ids is not None:
        led = sa.select(IndicatorUnit.indicator_id).where(
            IndicatorUnit.role == "lead", IndicatorUnit.unit_id.in_(list(unit_ids))
        )
        query = query.where(Indicator.id.in_(led))
    indicators = session.scalars(query).all()
    rows: dict[int, list[IndicatorValue]] = defaultdict(list)
    for row in session.scalars(
        sa.select(IndicatorValue)
        .where(
            IndicatorValue.indicator_id.in_([i.id for i in indicators]),
            IndicatorValue.reported_at < end_of_day(as_of),
        )
        .order_by(IndicatorValue.id)
        .options(joinedload(IndicatorValue.unit), joinedload(IndicatorValue.reported_by))
    ):
        rows[row.indicator_id].append(row)
    return [_standing(indicator, rows[indicator.id]) for indicator in indicators]


def status_counts(standings: Iterable[IndicatorStanding]) -> dict[Status, int]:
    """How many standings have each status, every status listed (zeros too), in order."""
    counts = dict.fromkeys(Status, 0)
    for standing in standings:
        counts[standing.status] += 1
    return counts


def indicator_history(session: Session, indicator_id: int) -> list[IndicatorValue]:
    """Every value reported for the indicator, in the order reported (corrections included)."""
    return list(
        session.scalars(
            sa.select(IndicatorValue)
            .where(IndicatorValue.indicator_id == indicator_id)
            .order_by(IndicatorValue.id)
            .options(joinedload(IndicatorValue.unit), joinedload(IndicatorValue.reported_by))
        )
    )


# --- the indicator page ----------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    value: IndicatorValue
    status: Status
    current: bool  # the latest row of its period; False: corrected by a later one


@dataclass(frozen=True)
class IndicatorPage:
    indicator: Indicator
    plan: Plan
    standing: IndicatorStanding
    history: list[HistoryRow]  # newest first
    may_report: bool
    target: TargetKind
    comparator: str | None


def indicator_page(
    session: Session, user: User, plan_code: str, indicator_id: int
) -> IndicatorPage:
    """One indicator of plan ``plan_code`` for ``user``: target, history, and whether they may
    report a value. An indicator of another plan is not found."""
    indicator = get_indicator(session, indicator_id)
    if indicator.plan.code != plan_code:
        raise NotFound(N_("indicator %(indicator)s does not exist"), indicator=indicator_id)
    require_on_indicator(user, Action.VIEW, indicator)
    rows = indicator_history(session, indicator_id)
    current = {row.id for row in _last_of_each_period(rows).values()}
    return IndicatorPage(
        indicator=indicator,
        plan=indicator.plan,
        standing=_standing(indicator, rows),
        history=[HistoryRow(r, classify(indicator, r), r.id in current) for r in reversed(rows)],
        may_report=can_on_indicator(user, Action.REPORT, indicator),
        target=target_kind(indicator),
        comparator=comparator(indicator),
    )
