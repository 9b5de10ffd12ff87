"""Use cases that change a task. Each checks permission, validates everything, then changes
the task, its due items and its history together; the caller commits once.

``expected_version`` is the task version the user saw (a form's hidden field, a CLI option):
when it no longer matches, the change is refused with :class:`Conflict` instead of silently
overwriting someone else's work. Two writers that race past that check still collide on the
version column at flush.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import sqlalchemy as sa

from workflow.context import Context
from workflow.due import DEADLINE_KEY, DueChanges, regenerate
from workflow.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from workflow.history import record
from workflow.lifecycle import fire
from workflow.messages import N_, Message, term
from workflow.models import (
    DueItem,
    ExtensionRequest,
    Plan,
    Report,
    Task,
    TriggerDocument,
    User,
)
from workflow.permissions import Action, require, require_organisation, require_review
from workflow.text import clean, plain_text
from workflow.timing import TimingKind, parse_timing

CYCLING_KINDS = (TimingKind.ONGOING.value, TimingKind.RECURRING.value)


def get_task(ctx: Context, task_id: int, actor: User | None = None) -> Task:
    task = ctx.session.get(Task, task_id)
    if task is None:
        raise NotFound(N_("task %(task)s does not exist"), task=task_id)
    if actor is not None:
        require(actor, Action.VIEW, task)
    return task


def check_version(task: Task, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != task.version:
        raise Conflict(
            N_(
                "task %(task)s was changed by someone else since you opened it "
                "(version %(expected)s, now %(version)s); reload it and try again"
            ),
            task=task.id,
            expected=expected_version,
            version=task.version,
        )


def _required(value: str | None, field: str) -> str:
    """``value`` as plain text; ``field`` is its name, marked with ``N_``."""
    value = plain_text(value)
    if not value:
        raise InvalidInput(N_("%(field)s: required"), field=Message(field))
    return value


def apply_transition(
    ctx: Context,
    task: Task,
    event: str,
    actor: User | None,
    *,
    note: str = "",
    changes: dict | None = None,
    flags: dict[str, bool] | None = None,
    before_regenerate: Callable[[], None] | None = None,
) -> None:
    """Fire ``event``, let ``before_regenerate`` adjust the task, regenerate, write history.

    Nothing is flushed until the history row is written: the flush that carries the change
    carries its history.
    """
    with ctx.session.no_autoflush:
        before, after = fire(task, event, actor, **(flags or {}))
        if before_regenerate is not None:
            before_regenerate()
        due_changes = regenerate(ctx.session, task, ctx.generation())
        _record(ctx, task, actor, event, before, after, note, changes, due_changes)


def _record(
    ctx: Context,
    task: Task,
    actor: User | None,
    action: str,
    before: str | None,
    after: str | None,
    note: str = "",
    changes: dict | None = None,
    due_changes: DueChanges | None = None,
) -> None:
    payload = dict(changes or {})
    if due_changes:
        payload["due_items"] = due_changes.as_dict()
    record(
        ctx.session,
        task,
        at=ctx.now(),
        actor=actor,
        action=action,
        from_status=before,
        to_status=after,
        note=note,
        changes=payload,
    )


def record_change(
    ctx: Context,
    task: Task,
    actor: User | None,
    action: str,
    *,
    note: str = "",
    changes: dict | None = None,
    due_changes: DueChanges | None = None,
) -> None:
    """History for a change that leaves the task in its state (edits, extensions, due dates)."""
    _record(ctx, task, actor, action, task.status, task.status, note, changes, due_changes)


# --- start, release ----------------------------------------------------------------------------


def start_task(ctx: Context, actor: User, task: Task, expected_version: int | None = None) -> None:
    """The Office starts a task: it goes to work, or waits for its guidance if conditional."""
    check_version(task, expected_version)
    awaits = task.timing_kind == TimingKind.CONDITIONAL and task.trigger_document_id is None

    def begin() -> None:
        if task.status == "in_progress":
            task.started_on = task.reporting_since = ctx.today()

    apply_transition(
        ctx, task, "start", actor, flags={"awaits_trigger": awaits}, before_regenerate=begin
    )


def start_plan(ctx: Context, actor: User, plan_id: int) -> list[Task]:
    """Start every draft task of a plan; a superseded plan starts nothing. The Office of the
    plan's organisation may, even when nothing is left to start."""
    plan = ctx.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(N_("plan %(plan)s does not exist"), plan=plan_id)
    require(actor, Action.START)
    require_organisation(actor, plan.issuer, Message(N_("start plan %(plan)s"), plan=plan.number))
    if plan.status == "superseded":
        raise InvalidInput(
            N_("plan %(plan)s is superseded: its tasks cannot be started"), plan=plan.code
        )
    tasks = ctx.session.scalars(
        sa.select(Task)
        .where(Task.plan_id == plan_id, Task.status == "draft")
        .order_by(Task.position)
    ).all()
    for task in tasks:
        start_task(ctx, actor, task)
    return list(tasks)


def record_trigger(
    ctx: Context,
    actor: User,
    *,
    number: str,
    issued_on: date,
    issuer: str,
    task_ids: Sequence[int],
    title: str = "",
) -> TriggerDocument:
    """Record the guidance a conditional task waits for, and release every task it concerns.

    Each task gets its deadline by the rule (``conditional.deadline_days`` after the document's
    date). All or nothing: one task that cannot be released stops the whole recording.
    """
    require(actor, Action.RELEASE)
    number, issuer = _required(number, N_("number")), _required(issuer, N_("issuer"))
    if issued_on > ctx.today():
        raise InvalidInput(N_("issued_on: %(day)s is in the future"), day=issued_on)
    if not task_ids:
        raise InvalidInput(N_("tasks: name at least one task the document releases"))
    tasks = [get_task(ctx, task_id) for task_id in dict.fromkeys(task_ids)]
    for task in tasks:
        require(actor, Action.RELEASE, task)
        if task.timing_kind != TimingKind.CONDITIONAL or task.status not in ("waiting", "draft"):
            raise IllegalTransition(
                N_(
                    "task %(task)s (%(ref)s) is %(status)s with a %(kind)s timing: "
                    "only a task waiting for guidance can be released"
                ),
                task=task.id,
                ref=task.ref,
                status=term(task.status),
                kind=term(task.timing_kind),
            )
    existing = ctx.session.scalar(
        sa.select(TriggerDocument).where(
            TriggerDocument.issuer == issuer, TriggerDocument.number == number
        )
    )
    if existing is not None:
        raise InvalidInput(
            N_("document %(number)s of %(issuer)s is already recorded"),
            number=number,
            issuer=issuer,
        )
    document = TriggerDocument(
        number=number,
        issued_on=issued_on,
        issuer=issuer,
        title=clean(title),
        recorded_at=ctx.now(),
        recorded_by_id=actor.id,
    )
    ctx.session.add(document)
    note = f"{number} ngày {issued_on:%d/%m/%Y} của {issuer}"
    for task in tasks:
        task.trigger_document = document
        if task.status == "draft":
            record_change(ctx, task, actor, "trigger_recorded", note=note)
            continue

        def release(task: Task = task) -> None:
            task.started_on = task.reporting_since = ctx.today()

        apply_transition(ctx, task, "release", actor, note=note, before_regenerate=release)
    return document


# --- reports -----------------------------------------------------------------------------------


def open_items(ctx: Context, task: Task) -> list[DueItem]:
    """The task's open due items, the earliest first: what a report or an extension can name."""
    return list(
        ctx.session.scalars(
            sa.select(DueItem)
            .where(DueItem.task_id == task.id, DueItem.status == "open")
            .order_by(DueItem.due_date, DueItem.id)
        )
    )


def _named_item(task: Task, items: list[DueItem], period: str) -> DueItem:
    """The open item ``period`` names: a period key ("2026-11", "deadline"), or kind:key when a
    recurring task owes both an occurrence and a report for one period ("occurrence:2026")."""
    kind, _, key = period.rpartition(":")
    matches = [i for i in items if i.period_key == key and kind in ("", i.kind)]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(f"{i.kind}:{i.period_key}" for i in (matches or items)[:12])
    if matches:
        raise InvalidInput(
            N_("period %(period)s of task %(task)s is ambiguous: say %(names)s"),
            period=repr(period),
            task=task.id,
            names=names,
        )
    raise InvalidInput(
        N_("period %(period)s: no open due item of task %(task)s (open: %(names)s)"),
        period=repr(period),
        task=task.id,
        names=names or Message(N_("none")),
    )


def open_due_item(ctx: Context, task: Task, period_key: str | None) -> DueItem:
    """The open due item a request is for: the one named, or the earliest open one."""
    items = open_items(ctx, task)
    if period_key is not None:
        return _named_item(task, items, period_key)
    if not items:
        raise InvalidInput(
            N_("task %(task)s (%(ref)s) owes nothing open"), task=task.id, ref=task.ref
        )
    return items[0]


def report_target(ctx: Context, task: Task, period_key: str | None, progress: int) -> DueItem:
    """The due item a report satisfies: the period named, or the earliest open period.

    Only a complete report (100 %) may satisfy the deadline itself: a progress report on a
    late task must not make it look done.
    """
    items = open_items(ctx, task)
    if period_key is not None:
        item = _named_item(task, items, period_key)
        if item.kind == "deadline" and progress < 100:
            raise InvalidInput(
                N_(
                    "period 'deadline': only a complete report (100 %%) meets the deadline of "
                    "task %(task)s; report this progress on a reporting period"
                ),
                task=task.id,
            )
        return item
    periods = [i for i in items if i.kind != "deadline"]
    if periods:
        return periods[0]
    if progress == 100 and items:
        return items[0]
    if items:
        raise InvalidInput(
            N_(
                "task %(task)s (%(ref)s) has no open reporting period; "
                "a complete report (100 %%) meets its deadline"
            ),
            task=task.id,
            ref=task.ref,
        )
    raise InvalidInput(
        N_("task %(task)s (%(ref)s) has no open reporting period"), task=task.id, ref=task.ref
    )


def submit_report(
    ctx: Context,
    actor: User,
    task: Task,
    *,
    text: str,
    progress: int,
    period_key: str | None = None,
    expected_version: int | None = None,
    difficulties: str = "",
) -> Report:
    """A lead unit reports on a task: it satisfies that period's due item (and the deadline,
    when the work is complete) and waits for the Office to accept or return it.

    ``difficulties``: the difficulties, obstacles and proposals the unit raises (khó khăn,
    vướng mắc, đề xuất, kiến nghị), optional; the Office's consolidated report gathers them."""
    require(actor, Action.REPORT, task)
    check_version(task, expected_version)
    text = _required(text, N_("report text"))
    difficulties = plain_text(difficulties)
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise InvalidInput(
            N_("progress: a whole number from 0 to 100, got %(progress)s"), progress=repr(progress)
        )
    if task.status not in ("in_progress", "reported"):
        raise IllegalTransition(
            N_("task %(task)s (%(ref)s) is %(status)s: cannot report"),
            task=task.id,
            ref=task.ref,
            status=term(task.status),
        )
    item = report_target(ctx, task, period_key, progress)
    report = Report(
        task=task,
        text=text,
        difficulties=difficulties,
        progress=progress,
        submitted_at=ctx.now(),
        submitted_by=actor,
    )
    ctx.session.add(report)
    satisfied = [item]
    if progress == 100 and item.kind != "deadline":
        deadline = _item(ctx, task, "deadline", DEADLINE_KEY)
        if deadline is not None and deadline.status == "open":
            satisfied.append(deadline)
    for due in satisfied:
        due.status, due.report = "satisfied", report
        due.satisfied_at, due.satisfied_on = ctx.now(), ctx.today()
        due.sequence += 1
    ctx.session.flush()

    def apply_progress() -> None:
        task.progress = progress

    apply_transition(
        ctx,
        task,
        "report",
        actor,
        note=text,
        changes={
            "report_id": report.id,
            "progress": progress,
            "satisfies": [f"{d.kind} {d.period_key}" for d in satisfied],
            **({"difficulties": difficulties} if difficulties else {}),
        },
        before_regenerate=apply_progress,
    )
    return report


def _item(ctx: Context, task: Task, kind: str, period_key: str) -> DueItem | None:
    return ctx.session.scalar(
        sa.select(DueItem).where(
            DueItem.task_id == task.id, DueItem.kind == kind, DueItem.period_key == period_key
        )
    )


def _report_to_review(ctx: Context, actor: User, action: Action, report_id: int) -> Report:
    """The report, once the actor may review it (so that another organisation learns nothing
    of its state), and still waiting for review."""
    report = ctx.session.get(Report, report_id)
    if report is None:
        raise NotFound(N_("report %(report)s does not exist"), report=report_id)
    require_review(actor, action, report)
    if report.status != "submitted":
        raise IllegalTransition(
            N_("report %(report)s was %(status)s already"),
            report=report_id,
            status=term(report.status),
        )
    return report


def _others_pending(ctx: Context, report: Report) -> bool:
    return bool(
        ctx.session.scalar(
            sa.select(sa.func.count(Report.id)).where(
                Report.task_id == report.task_id,
                Report.status == "submitted",
                Report.id != report.id,
            )
        )
    )


def accept_report(
    ctx: Context, actor: User, report_id: int, note: str = "", expected_version: int | None = None
) -> Report:
    """The Office accepts a report. When nothing else waits for review and the task's deadline
    is met (or, for a task without one, this report says 100 %), the task closes; an ongoing or
    recurring task goes back to work for its next period."""
    report = _report_to_review(ctx, actor, Action.ACCEPT, report_id)
    task = report.task
    check_version(task, expected_version)
    pending = _others_pending(ctx, report)
    deadline = _item(ctx, task, "deadline", DEADLINE_KEY)
    done = deadline.status == "satisfied" if deadline is not None else report.progress == 100
    completes = not pending and task.timing_kind not in CYCLING_KINDS and done
    report.status, report.reviewed_at, report.reviewed_by = "accepted", ctx.now(), actor
    report.review_note = plain_text(note)

    def close() -> None:
        if task.status == "closed":
            task.closed_on, task.progress = ctx.today(), 100

    apply_transition(
        ctx,
        task,
        "accept",
        actor,
        note=report.review_note,
        changes={"report_id": report.id},
        flags={"completes": completes, "pending": pending},
        before_regenerate=close,
    )
    return report


def return_report(
    ctx: Context, actor: User, report_id: int, reason: str, expected_version: int | None = None
) -> Report:
    """The Office sends a report back with a reason; what it satisfied is owed again."""
    report = _report_to_review(ctx, actor, Action.RETURN, report_id)
    task = report.task
    check_version(task, expected_version)
    reason = _required(reason, N_("reason"))
    pending = _others_pending(ctx, report)
    last_accepted = ctx.session.scalar(
        sa.select(Report.progress)
        .where(Report.task_id == task.id, Report.status == "accepted")
        .order_by(Report.submitted_at.desc(), Report.id.desc())
        .limit(1)
    )
    reopened = [f"{d.kind} {d.period_key}" for d in report.due_items]
    for due in list(report.due_items):
        _reopen_item(due)
    report.status, report.reviewed_at, report.reviewed_by = "returned", ctx.now(), actor
    report.review_note = reason

    def restore_progress() -> None:
        task.progress = last_accepted or 0

    apply_transition(
        ctx,
        task,
        "return",
        actor,
        note=reason,
        changes={"report_id": report.id, "reopened": reopened},
        flags={"pending": pending},
        before_regenerate=restore_progress,
    )
    return report


def _reopen_item(item: DueItem) -> None:
    item.status, item.report = "open", None
    item.satisfied_at = item.satisfied_on = None
    item.sequence += 1


# --- reopen, cancel, timing ------------------------------------------------------------------


def reopen_task(
    ctx: Context, actor: User, task: Task, reason: str, expected_version: int | None = None
) -> None:
    """The Office reopens a closed task: its deadline is owed again, reports from today."""
    check_version(task, expected_version)
    reason = _required(reason, N_("reason"))

    def reopen() -> None:
        task.closed_on = None
        task.reporting_since = ctx.today()
        deadline = _item(ctx, task, "deadline", DEADLINE_KEY)
        if deadline is not None and deadline.status == "satisfied":
            _reopen_item(deadline)

    apply_transition(ctx, task, "reopen", actor, note=reason, before_regenerate=reopen)


def cancel_task(
    ctx: Context, actor: User, task: Task, reason: str, expected_version: int | None = None
) -> None:
    """The Office cancels a task with a reason; what it owed, and waiting requests, close."""
    check_version(task, expected_version)
    reason = _required(reason, N_("reason"))
    closed = close_pending_requests(ctx, task, actor, f"Nhiệm vụ đã hủy: {reason}")
    apply_transition(
        ctx, task, "cancel", actor, note=reason, changes={"extension_requests_closed": closed}
    )


def close_pending_requests(ctx: Context, task: Task, actor: User | None, why: str) -> list[int]:
    """Refuse, with ``why``, the extension requests of a task that no longer owes anything."""
    requests = ctx.session.scalars(
        sa.select(ExtensionRequest).where(
            ExtensionRequest.task_id == task.id, ExtensionRequest.status == "pending"
        )
    ).all()
    for request in requests:
        request.status, request.decision_note = "refused", why
        request.decided_at, request.decided_by_id = ctx.now(), actor.id if actor else None
    return [request.id for request in requests]


def change_timing(
    ctx: Context, actor: User, task: Task, raw: str, expected_version: int | None = None
) -> bool:
    """The Office corrects a task's timing; its due items move with it. False if unchanged.

    Unlike an import, which keeps an unreadable timing for review, a correction must be
    readable: it is made precisely to give the task a timing.
    """
    require(actor, Action.EDIT, task)
    check_version(task, expected_version)
    old, new = task.timing, parse_timing(raw)
    if old == new:
        return False
    if new.kind is TimingKind.UNKNOWN:
        raise InvalidInput(
            N_(
                "timing %(raw)s: not a timing nhiemvu can read (e.g. 3/2025, Quý II/2026, "
                "30/6/2026, Thường xuyên, Hằng năm, Sau khi có hướng dẫn của …)"
            ),
            raw=repr(raw),
        )
    problem = timing_change_problem(task, new.kind)
    if problem:
        raise IllegalTransition(problem)
    with ctx.session.no_autoflush:
        task.timing = new
        due_changes = regenerate(ctx.session, task, ctx.generation())
    changes = {
        "timing": {
            "from": {"raw": old.raw, "kind": old.kind.value, "deadline": _iso(old.deadline)},
            "to": {"raw": new.raw, "kind": new.kind.value, "deadline": _iso(new.deadline)},
        }
    }
    record_change(ctx, task, actor, "timing_changed", changes=changes, due_changes=due_changes)
    return True


def timing_change_problem(task: Task, new_kind: TimingKind) -> Message | None:
    """Why ``task`` may not take a timing of ``new_kind`` in its state, or None.

    A task waiting for guidance leaves that state only by its trigger document (or by being
    cancelled); a task at work cannot go back to waiting; a finished task is reopened first.
    """
    where = {"task": task.id, "ref": task.ref, "status": term(task.status)}
    waits = new_kind is TimingKind.CONDITIONAL and task.trigger_document_id is None
    if task.status == "closed":
        return Message(
            N_(
                "task %(task)s (%(ref)s) is %(status)s: its timing can no longer change "
                "(reopen it first)"
            ),
            **where,
        )
    if task.status in ("cancelled", "superseded"):
        return Message(
            N_("task %(task)s (%(ref)s) is %(status)s: its timing can no longer change"), **where
        )
    if task.status == "waiting" and not waits:
        return Message(
            N_(
                "task %(task)s (%(ref)s) is %(status)s for guidance: record its trigger "
                "document, or cancel it"
            ),
            **where,
        )
    if task.status in ("in_progress", "reported") and waits:
        return Message(
            N_("task %(task)s (%(ref)s) is %(status)s: it cannot go back to waiting for guidance"),
            **where,
        )
    return None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- extensions --------------------------------------------------------------------------------


def request_extension(
    ctx: Context,
    actor: User,
    task: Task,
    *,
    reason: str,
    period_key: str | None = None,
    proposed_date: date | None = None,
    expected_version: int | None = None,
) -> ExtensionRequest:
    """Đề nghị gia hạn: the lead unit asks for more time on one open due item."""
    require(actor, Action.REQUEST_EXTENSION, task)
    check_version(task, expected_version)
    reason = _required(reason, N_("reason"))
    item = open_due_item(ctx, task, period_key)
    if proposed_date is not None and proposed_date <= item.due_date:
        raise InvalidInput(
            N_("proposed date: %(proposed)s is not after the due date %(due)s"),
            proposed=proposed_date,
            due=item.due_date,
        )
    pending = ctx.session.scalar(
        sa.select(ExtensionRequest.id).where(
            ExtensionRequest.due_item_id == item.id, ExtensionRequest.status == "pending"
        )
    )
    if pending is not None:
        raise InvalidInput(
            N_("an extension of %(period)s is already waiting (request %(request)s)"),
            period=item.period_key,
            request=pending,
        )
    request = ExtensionRequest(
        task=task,
        due_item=item,
        reason=reason,
        proposed_date=proposed_date,
        requested_at=ctx.now(),
        requested_by=actor,
    )
    ctx.session.add(request)
    ctx.session.flush()
    changes = {"request_id": request.id, "due_item": f"{item.kind} {item.period_key}"}
    if proposed_date:
        changes["proposed_date"] = proposed_date.isoformat()
    record_change(ctx, task, actor, "extension_requested", note=reason, changes=changes)
    return request


def decide_extension(
    ctx: Context,
    actor: User,
    request_id: int,
    *,
    grant: bool,
    new_date: date | None = None,
    note: str = "",
) -> ExtensionRequest:
    """The Office grants an extension with a new date, or refuses it with a reason.

    The original due date stays on the item (``original_due_date``) and in the history.
    """
    request = ctx.session.get(ExtensionRequest, request_id)
    if request is None:
        raise NotFound(N_("extension request %(request)s does not exist"), request=request_id)
    task, item = request.task, request.due_item
    require(actor, Action.DECIDE_EXTENSION, task)
    if request.status != "pending":
        raise IllegalTransition(
            N_("extension request %(request)s was %(status)s already"),
            request=request_id,
            status=term(request.status),
        )
    if grant and item.status != "open":
        raise IllegalTransition(
            N_(
                "extension request %(request)s: %(kind)s %(period)s is %(status)s; "
                "only a date still owed can be extended (refuse the request instead)"
            ),
            request=request_id,
            kind=term(item.kind),
            period=item.period_key,
            status=term(item.status),
        )
    note = plain_text(note)
    changes: dict = {"request_id": request.id, "due_item": f"{item.kind} {item.period_key}"}
    if grant:
        new_date = new_date or request.proposed_date
        if new_date is None:
            raise InvalidInput(N_("new date: required to grant an extension"))
        if new_date <= item.due_date:
            raise InvalidInput(
                N_("new date: %(new)s is not after the due date %(due)s"),
                new=new_date,
                due=item.due_date,
            )
        before = item.due_date
        item.extended_to = new_date
        item.due_date = ctx.calendar.effective_date(new_date)
        item.sequence += 1
        request.granted_date = new_date
        changes.update(
            {
                "from": before.isoformat(),
                "to": item.due_date.isoformat(),
                "original": item.original_due_date.isoformat(),
            }
        )
    else:
        note = _required(note, N_("reason for refusing"))
    request.status = "granted" if grant else "refused"
    request.decided_at, request.decided_by_id, request.decision_note = ctx.now(), actor.id, note
    action = "extension_granted" if grant else "extension_refused"
    record_change(ctx, task, actor, action, note=note, changes=changes)
    return request
