"""Due items: what a task owes and when, derived from its timing, its plan's regime and its state.

:func:`desired_due_items` says what *should* exist; :func:`regenerate` makes the database say
so. Regeneration is idempotent: an unchanged task changes nothing, a moved timing moves its
items (keeping their identity, raising their sequence), an item no longer wanted is cancelled,
never deleted, and a satisfied item is history that is never rewritten.

Which items exist, by task state:

* draft, waiting: none yet (a plan in preparation, a task waiting for guidance owe nothing);
* in progress, reported: the deadline (fixed and range timings; conditional ones once their
  trigger is recorded), each occurrence of a recurring task from the plan's date, and each
  periodic report of the plan's regime from ``reporting_since`` (the day it started, was
  released or reopened), up to the horizon;
* closed: the same, but nothing after the day it closed;
* cancelled, superseded: none (open ones are cancelled).

A report period that has already passed is never cancelled by a later change of an active
task: the report was owed then, and if it is missing it stays missing. An extension granted
on an item is dropped when the item's nominal date itself changes (the timing was corrected):
it was granted against a date that no longer holds, and the history records that it was.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.models import DueItem, Task
from workflow.regime import ReportingRegime, period_end, period_key
from workflow.rules import Rules
from workflow.timing import Frequency, Timing, TimingKind
from workflow.workdays import WorkingCalendar

DEADLINE_KEY = "deadline"
_NO_ITEMS_STATES = ("draft", "waiting", "cancelled", "superseded")


@dataclass(frozen=True)
class Generation:
    """What regeneration needs besides the task: the day, the horizon and the rules."""

    today: date
    horizon_months: int
    rules: Rules  # a conditional task's deadline follows its lead unit's rule
    calendar: WorkingCalendar

    @property
    def horizon_end(self) -> date:
        month_index = self.today.month - 1 + self.horizon_months
        year, month = self.today.year + month_index // 12, month_index % 12 + 1
        day = min(self.today.day, calendar.monthrange(year, month)[1])
        return date(year, month, day)


@dataclass
class DueChanges:
    created: list[str] = field(default_factory=list)
    moved: dict[str, list[str]] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    extensions_dropped: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.moved or self.cancelled or self.extensions_dropped)

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if v}


def desired_due_items(task: Task, generation: Generation) -> dict[tuple[str, str], date]:
    """(kind, period key) → nominal date of every due item the task should have now."""
    if task.status in _NO_ITEMS_STATES:
        return {}
    end = generation.horizon_end
    if task.status == "closed" and task.closed_on is not None:
        end = min(end, task.closed_on)
    wanted: dict[tuple[str, str], date] = {}
    deadline = _deadline(task, generation)
    if deadline is not None:
        wanted["deadline", DEADLINE_KEY] = deadline
    timing = task.timing
    if timing.kind is TimingKind.RECURRING and timing.frequency is not None:
        start = task.plan.issued_on or task.started_on or generation.today
        for key, nominal in _occurrences(timing, start, end):
            wanted["occurrence", key] = nominal
    if task.reporting_since is not None:
        regime = ReportingRegime.parse(task.plan.reporting_regime)
        for period in regime.periods(task.reporting_since, end):
            wanted["report", period.key] = period.nominal_date
    return wanted


def _deadline(task: Task, generation: Generation) -> date | None:
    if task.timing_kind in (TimingKind.FIXED, TimingKind.RANGE):
        return task.timing_deadline
    if task.timing_kind == TimingKind.CONDITIONAL and task.trigger_document is not None:
        days = generation.rules.for_task(task).conditional_deadline_days
        return task.trigger_document.issued_on + timedelta(days=days)
    return None


def _occurrences(timing: Timing, start: date, end: date) -> Iterator[tuple[str, date]]:
    """(key, nominal date) of each period of a recurring timing with nominal date in range."""
    frequency: Frequency = timing.frequency
    months = {
        Frequency.MONTHLY: range(1, 13),
        Frequency.QUARTERLY: (3, 6, 9, 12),
        Frequency.SEMIANNUAL: (6, 12),
        Frequency.ANNUAL: (timing.anchor_month or 12,),
    }[frequency]
    for year in range(start.year, end.year + 1):
        for month in months:
            if timing.anchor_day is None:
                nominal = period_end(frequency, year, month)
            else:
                last = calendar.monthrange(year, month)[1]
                nominal = date(year, month, min(timing.anchor_day, last))
            if start <= nominal <= end:
                yield period_key(frequency, nominal), nominal


def regenerate(session: Session, task: Task, generation: Generation) -> DueChanges:
    """Bring the task's due items in line with :func:`desired_due_items`."""
    with session.no_autoflush:  # the caller writes the history row after us, in one flush
        wanted = desired_due_items(task, generation)
        rows = session.scalars(sa.select(DueItem).where(DueItem.task_id == task.id)).all()
    existing = {(item.kind, item.period_key): item for item in rows}
    changes = DueChanges()
    for key, item in existing.items():
        if key not in wanted and item.status == "open" and not _owed_still(task, item, generation):
            item.status = "cancelled"
            item.cancelled_on = generation.today
            item.sequence += 1
            changes.cancelled.append(_label(key))
    for key, nominal in wanted.items():
        item = existing.get(key)
        if item is None:
            session.add(_new_item(task, key, nominal, generation.calendar))
            changes.created.append(_label(key))
        elif item.status == "cancelled":
            _revive(item, nominal, generation.calendar)
            changes.created.append(_label(key))
        elif item.status == "open":
            before = item.due_date
            if item.extended_to is not None and item.nominal_date != nominal:
                item.extended_to = None  # granted against a date that no longer holds
                changes.extensions_dropped.append(_label(key))
            _set_dates(item, nominal, generation.calendar)
            if item.due_date != before:
                item.sequence += 1
                changes.moved[_label(key)] = [before.isoformat(), item.due_date.isoformat()]
    return changes


def _owed_still(task: Task, item: DueItem, generation: Generation) -> bool:
    """A past report that was owed stays owed (and missing) unless the task itself is gone.

    Deadlines and occurrences always follow the timing; but a report period that ended while
    the task was active is a fact of the past, not something a later change undoes.
    """
    return (
        item.kind == "report"
        and item.nominal_date < generation.today
        and task.status not in ("cancelled", "superseded")
    )


def _label(key: tuple[str, str]) -> str:
    kind, period = key
    return kind if period == DEADLINE_KEY else f"{kind} {period}"


def _new_item(task: Task, key: tuple[str, str], nominal: date, cal: WorkingCalendar) -> DueItem:
    kind, period = key
    effective = cal.effective_date(nominal)
    return DueItem(
        task_id=task.id,
        kind=kind,
        period_key=period,
        nominal_date=nominal,
        original_due_date=effective,
        due_date=effective,
        status="open",
    )


def announce_again(session: Session, tasks: sa.ColumnElement[bool]) -> None:
    """Raise the sequence of every due item of the ``tasks`` (a condition on Task): what a
    calendar shows of them changed without the tasks changing (a lead unit was renamed, the
    plan retitled), and subscribed clients replace an event only when its sequence rises."""
    session.execute(
        sa.update(DueItem)
        .where(DueItem.task_id.in_(sa.select(Task.id).where(tasks)))
        .values(sequence=DueItem.sequence + 1)
        .execution_options(synchronize_session="fetch")
    )


def _set_dates(item: DueItem, nominal: date, cal: WorkingCalendar) -> None:
    item.nominal_date = nominal
    item.original_due_date = cal.effective_date(nominal)
    item.due_date = cal.effective_date(item.extended_to or nominal)


def _revive(item: DueItem, nominal: date, cal: WorkingCalendar) -> None:
    item.status = "open"
    item.cancelled_on = None
    item.extended_to = None
    item.sequence += 1
    _set_dates(item, nominal, cal)
