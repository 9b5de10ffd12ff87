"""Reminders before a due item's date, escalation after it, and questions to the Office about
tasks waiting for guidance: when each step fires (a pure function of the item, its rule and
the day) and the sweep that fires them, exactly once.

A step's key names its kind, its days and the effective date it was counted from
(``before:7@2026-12-31``, ``after:3@2026-12-31``): a step fires once per date, ever, because
:class:`Escalation` is unique per (due item, step). When an extension or a corrected timing
moves the date, the steps count again from the new date.

Reminders: only the latest reminder whose day has come is sent (after downtime, nobody gets
"7 days left" on the eve of the deadline), and none once the date has passed. Escalation: every
step whose day has come and that has not fired, in order (after downtime, each once), unless
its day is more than :data:`CATCH_UP_DAYS` ago: such a step has lapsed, so that installing
nhiemvu over a year of history, or restarting it after a long outage, does not flood people
with stale steps (the overdue board still shows every late item). Nothing fires for an item
that is no longer open.

The sweep reads only the open items whose date lies in the span some rule can act on, so its
cost follows the actionable items, not the table. The escalation rows, the in-app
notifications and the e-mails (outbox) of a sweep are written in one transaction: a crash
leaves either all of them or none, and the next sweep finds what is left to do.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from workflow.board import waiting_tasks
from workflow.context import Context
from workflow.models import DueItem, Escalation, Task, Unit, User
from workflow.notices import compose, notify
from workflow.queries import lead_units_of
from workflow.rules import Rule, Rules
from workflow.workdays import WorkingCalendar

REMINDER, ESCALATION, GUIDANCE = "reminder", "escalation", "guidance"
CATCH_UP_DAYS = 30  # a step whose day is longer ago than this has lapsed: it is never sent


@dataclass(frozen=True)
class Planned:
    """One step of a rule for one date: its key, kind, day, and who is told."""

    step: str
    kind: str
    days: int
    fires_on: date
    to: tuple[str, ...]
    counting: str = "calendar"


def _shift(day: date, days: int, counting: str, calendar: WorkingCalendar) -> date:
    if counting == "working":
        return calendar.add_working_days(day, days)
    return day + timedelta(days=days)


@functools.lru_cache(maxsize=8192)
def schedule(due: date, rule: Rule, calendar: WorkingCalendar) -> tuple[Planned, ...]:
    """Every step of ``rule`` for an item due on ``due``, in the order they fire. Kept: a sweep
    asks it for thousands of items that share a few dozen dates, and working-day arithmetic
    (holidays, Tết) was most of the sweep's time."""
    reminders = [
        Planned(
            f"before:{days}@{due.isoformat()}",
            REMINDER,
            days,
            _shift(due, -days, rule.reminder_counting, calendar),
            rule.reminder_to,
            rule.reminder_counting,
        )
        for days in rule.reminder_days
    ]
    steps = [
        Planned(
            f"after:{step.after}@{due.isoformat()}",
            ESCALATION,
            step.after,
            _shift(due, step.after, rule.escalation_counting, calendar),
            step.to,
            rule.escalation_counting,
        )
        for step in rule.escalation_steps
    ]
    return (*sorted(reminders, key=lambda p: p.fires_on), *steps)


def actions_due(
    due: date,
    status: str,
    rule: Rule,
    today: date,
    calendar: WorkingCalendar,
    fired: Collection[str] = (),
) -> list[Planned]:
    """The steps to fire on ``today`` for an item due on ``due`` in ``status``, given the
    steps already ``fired``: pure, so that it can be tested across month ends and Tết."""
    if status != "open":
        return []
    planned = schedule(due, rule, calendar)
    reminders = [
        p for p in planned if p.kind == REMINDER and p.fires_on <= today and today < due
    ] or [p for p in planned if p.kind == REMINDER and p.fires_on == today]
    latest = reminders[-1:]
    steps = [
        p for p in planned if p.kind == ESCALATION and p.fires_on <= today and not _lapsed(p, today)
    ]
    return [p for p in [*latest, *steps] if p.step not in fired]


def _lapsed(planned: Planned, today: date) -> bool:
    return planned.fires_on < today - timedelta(days=CATCH_UP_DAYS)


def guidance_question_due(
    waiting_since: date, rule: Rule, today: date, fired: Collection[str] = ()
) -> Planned | None:
    """Whether to ask the Office today if a waiting task's guidance has arrived: every
    ``ask_every_days`` after it started waiting (after downtime: the latest question once)."""
    every = rule.guidance_ask_every_days
    count = (today - waiting_since).days // every
    if count < 1:
        return None
    asked = Planned(
        f"ask:{count}",
        GUIDANCE,
        count * every,
        waiting_since + timedelta(days=count * every),
        ("office",),
    )
    return None if asked.step in fired else asked


def span(rules: Rules, calendar: WorkingCalendar, today: date) -> tuple[date, date]:
    """The due dates some rule may act on today: from the last escalation step that has not
    lapsed back to the earliest reminder ahead (working days counted generously through long
    holidays). Every other item is dormant today."""
    every = [rules.default, *rules.by_unit.values()]
    ahead = max((max(r.reminder_days, default=0), r.reminder_counting) for r in every)
    behind = max((max(s.after for s in r.escalation_steps), r.escalation_counting) for r in every)

    def reach(days: int, counting: str) -> int:
        return days if counting == "calendar" else days * 2 + 14

    back = reach(*behind) + CATCH_UP_DAYS
    return today - timedelta(days=back), today + timedelta(days=reach(*ahead))


# --- who is told ---------------------------------------------------------------------------------


@dataclass
class Audience:
    """Active accounts by unit and role, and each unit's organisation: read once per sweep."""

    by_unit: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    organisation_of: dict[int, int] = field(default_factory=dict)
    by_organisation: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def read(cls, session: Session) -> Audience:
        audience = cls()
        parents = dict(session.execute(sa.select(Unit.id, Unit.parent_id)).all())
        for unit_id in parents:
            top = unit_id
            while parents.get(top) is not None:
                top = parents[top]
            audience.organisation_of[unit_id] = top
        for user in session.scalars(sa.select(User).where(User.active.is_(True))):
            if user.unit_id is None:
                continue
            audience.by_unit[user.unit_id].append(user)
            audience.by_organisation[audience.organisation_of[user.unit_id]].append(user)
        return audience

    def resolve(self, recipients: Iterable[str], lead_unit_ids: list[int]) -> list[User]:
        """The accounts behind ``lead_unit``, ``unit_head``, ``office``, ``leadership`` for a
        task led by ``lead_unit_ids`` (each person once, in a stable order)."""
        found: dict[int, User] = {}
        organisations = {self.organisation_of.get(u) for u in lead_unit_ids}
        for recipient in recipients:
            if recipient in ("lead_unit", "unit_head"):
                roles = (
                    {"unit_head", "unit_delegate"} if recipient == "lead_unit" else {"unit_head"}
                )
                people = [u for unit in lead_unit_ids for u in self.by_unit.get(unit, [])]
            else:
                roles = {recipient}
                people = [u for org in organisations for u in self.by_organisation.get(org, [])]
            found.update((u.id, u) for u in people if u.role in roles)
        return sorted(found.values(), key=lambda u: u.id)


# --- the sweep -----------------------------------------------------------------------------------


@dataclass
class SweepResult:
    fired: int = 0  # escalation rows written
    notified: int = 0  # in-app notifications
    emailed: int = 0  # e-mails queued


def sweep(ctx: Context) -> SweepResult:
    """Fire every step due now, once; the caller's unit of work commits it all together."""
    session, today, now = ctx.session, ctx.today(), ctx.now()
    start, end = span(ctx.rules, ctx.calendar, today)
    items = list(
        session.scalars(
            sa.select(DueItem)
            .join(DueItem.task)
            .join(Task.plan)
            .where(DueItem.status == "open", DueItem.due_date.between(start, end))
            .where(Task.status.in_(("in_progress", "reported")))
            .options(contains_eager(DueItem.task).contains_eager(Task.plan))
            .order_by(DueItem.due_date, DueItem.id)
        ).unique()
    )
    waiting = [w for w in waiting_tasks(session, None, today) if w.since is not None]
    leads = lead_units_of(session, [i.task_id for i in items] + [w.task.id for w in waiting])
    fired_items, fired_tasks = _fired(session, [i.id for i in items], [w.task.id for w in waiting])
    audience = Audience.read(session)
    result = SweepResult()
    writer = _Writer(ctx, audience, now, result)
    for item in items:
        units = leads.get(item.task_id, [])
        rule = ctx.rules.for_unit(units[0].code if units else None)
        for planned in actions_due(
            item.due_date, item.status, rule, today, ctx.calendar, fired_items[item.id]
        ):
            writer.fire(planned, rule, [u.id for u in units], item.task, item)
    for waiting_task in waiting:
        task = waiting_task.task
        units = leads.get(task.id, [])
        rule = ctx.rules.for_unit(units[0].code if units else None)
        asked = guidance_question_due(waiting_task.since, rule, today, fired_tasks[task.id])
        if asked is not None:
            writer.fire(asked, rule, [u.id for u in units], task, None)
    session.flush()
    return result


def _fired(
    session: Session, item_ids: list[int], task_ids: list[int]
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    items: dict[int, set[str]] = defaultdict(set)
    tasks: dict[int, set[str]] = defaultdict(set)
    for item_id, task_id, step in session.execute(
        sa.select(Escalation.due_item_id, Escalation.task_id, Escalation.step).where(
            sa.or_(Escalation.due_item_id.in_(item_ids), Escalation.task_id.in_(task_ids))
        )
    ):
        if item_id is not None:
            items[item_id].add(step)
        else:
            tasks[task_id].add(step)
    return items, tasks


@dataclass
class _Writer:
    ctx: Context
    audience: Audience
    now: datetime
    result: SweepResult

    def fire(
        self, planned: Planned, rule: Rule, unit_ids: list[int], task: Task, item: DueItem | None
    ) -> None:
        session = self.ctx.session
        escalation = Escalation(
            due_item=item,
            task=task if item is None else None,
            step=planned.step,
            kind=planned.kind,
            days=planned.days,
            counting=planned.counting,
            recipients=list(planned.to),
            rule_file=rule.source,
            fires_on=planned.fires_on,
            fired_at=self.now,
        )
        session.add(escalation)
        self.result.fired += 1
        for person in self.audience.resolve(planned.to, unit_ids):
            _notification, mail = notify(
                session,
                self.ctx.settings,
                person,
                compose(self.ctx.settings, planned, task, item, person),
                key=f"{planned.kind}:{item.id if item else task.id}:{planned.step}:{person.id}",
                kind=planned.kind,
                now=self.now,
                task=task,
                escalation=escalation,
            )
            self.result.notified += 1
            self.result.emailed += mail is not None


RECIPIENT_NAMES = {
    "lead_unit": "the lead unit",
    "unit_head": "its head",
    "office": "the Office",
    "leadership": "leadership",
}


def explain(ctx: Context, task: Task, as_of: date) -> list[str]:
    """For `nhiemvu rules explain`: the task's rule, and for each open due item every step
    with its day and state as of ``as_of`` (fired, due now, to come, or skipped)."""
    units = lead_units_of(ctx.session, [task.id]).get(task.id, [])
    rule = ctx.rules.for_unit(units[0].code if units else None)
    leads = ", ".join(f"{u.name} ({u.code})" for u in units) or "no lead unit"
    lines = [f"task {task.id} ({task.plan.number} {task.ref}), led by {leads}: {rule.source}"]
    start, end = span(ctx.rules, ctx.calendar, as_of)
    items = [i for i in task.due_items if i.status == "open" and start <= i.due_date <= end]
    later = sum(1 for i in task.due_items if i.status == "open" and i.due_date > end)
    fired, asked = _fired(ctx.session, [i.id for i in items], [task.id])
    since = next((w.since for w in waiting_tasks(ctx.session, None, as_of) if w.task is task), None)
    if since is not None:
        every = rule.guidance_ask_every_days
        lines.append(f"waiting since {since}: the Office is asked every {every} days")
        question = guidance_question_due(since, rule, as_of, asked[task.id])
        if question is not None:
            lines.append(f"  {question.step} due now: ask the Office")
    if not items:
        lines.append(f"no open due item between {start} and {end}")
    for item in items:
        now = {p.step for p in actions_due(item.due_date, "open", rule, as_of, ctx.calendar)}
        lines.append(f"{item.kind} {item.period_key}, due {item.due_date}:")
        for planned in schedule(item.due_date, rule, ctx.calendar):
            if planned.step in fired[item.id]:
                state = "fired"
            elif planned.step in now:
                state = "due now"
            elif planned.fires_on > as_of:
                state = "to come"
            elif planned.kind == ESCALATION and _lapsed(planned, as_of):
                state = f"lapsed (more than {CATCH_UP_DAYS} days ago: not sent)"
            else:
                state = "skipped (a later reminder came first, or the date passed)"
            who = ", ".join(RECIPIENT_NAMES[r] for r in planned.to)
            lines.append(f"  {planned.fires_on} {planned.step.split('@')[0]:<10} to {who}: {state}")
    if later:
        lines.append(f"and {later} open items due after {end}: nothing fires for them yet")
    return lines
