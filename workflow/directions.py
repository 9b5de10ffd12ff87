"""Directions, comments and requests to explain a delay: the conversation around a task.

Leadership leaves a direction (ý kiến chỉ đạo) on a task or asks its lead unit to explain a
delay (yêu cầu giải trình) by a date; the lead unit answers; anyone who may see a task may
comment on it. Directions and comments are entries of the task's history (one home, written
once); a request to explain has a row of its own because it waits for an answer.

None of these change the task itself, so none raises its version: a direction left while a
unit head fills in a report does not make that report form stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from workflow.board import in_scope, led_by
from workflow.clock import local_date
from workflow.context import Context
from workflow.errors import IllegalTransition, InvalidInput, NotFound
from workflow.history import record
from workflow.messages import N_, Message
from workflow.models import ExplanationRequest, Task, TaskEvent, TaskUnit, User
from workflow.permissions import Action, require

DIRECTION = "direction"
COMMENT = "comment"
EXPLANATION_REQUESTED = "explanation_requested"
EXPLANATION_GIVEN = "explanation_given"
MAX_TEXT = 5000
RECENT_DAYS = 30


def _text(value: str | None, field: str) -> str:
    """``value`` stripped; ``field`` is its name, marked with ``N_``."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput(N_("%(field)s: required"), field=Message(field))
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            N_("%(field)s: at most %(most)s characters, got %(got)s"),
            field=Message(field),
            most=MAX_TEXT,
            got=len(value),
        )
    return value


def _note(ctx: Context, task: Task, actor: User, action: str, text: str, **changes) -> TaskEvent:
    return record(
        ctx.session,
        task,
        at=ctx.now(),
        actor=actor,
        action=action,
        from_status=task.status,
        to_status=task.status,
        note=text,
        changes=changes,
        touches_task=False,
    )


def give_direction(ctx: Context, actor: User, task: Task, text: str) -> TaskEvent:
    """Ý kiến chỉ đạo: leadership's instruction on a task, shown to its units."""
    require(actor, Action.DIRECT, task)
    return _note(ctx, task, actor, DIRECTION, _text(text, N_("direction")))


def add_comment(ctx: Context, actor: User, task: Task, text: str) -> TaskEvent:
    """A remark by anyone who may see the task (a cooperating unit, the Office, …)."""
    require(actor, Action.COMMENT, task)
    return _note(ctx, task, actor, COMMENT, _text(text, N_("comment")))


def default_answer_by(ctx: Context) -> date:
    """The answer is due this many working days from today (``rules/``: explanation)."""
    return ctx.calendar.add_working_days(ctx.today(), ctx.rules.explanation_answer_working_days)


def open_explanation(session: Session, task: Task) -> ExplanationRequest | None:
    return session.scalar(
        sa.select(ExplanationRequest).where(
            ExplanationRequest.task_id == task.id, ExplanationRequest.status == "open"
        )
    )


def request_explanation(
    ctx: Context, actor: User, task: Task, question: str, answer_by: date | None = None
) -> ExplanationRequest:
    """Yêu cầu giải trình: ask the lead unit why, by a date. One open request per task."""
    require(actor, Action.REQUEST_EXPLANATION, task)
    question = _text(question, N_("question"))
    answer_by = answer_by or default_answer_by(ctx)
    if answer_by <= ctx.today():
        raise InvalidInput(N_("answer by: %(day)s is not after today"), day=answer_by)
    waiting = open_explanation(ctx.session, task)
    if waiting is not None:
        raise InvalidInput(
            N_("an explanation of task %(ref)s is already awaited (asked %(asked)s, due %(due)s)"),
            ref=task.ref,
            asked=local_date(waiting.requested_at),
            due=waiting.answer_by,
        )
    request = ExplanationRequest(
        task=task,
        question=question,
        answer_by=answer_by,
        requested_at=ctx.now(),
        requested_by=actor,
    )
    ctx.session.add(request)
    ctx.session.flush()
    _note(
        ctx,
        task,
        actor,
        EXPLANATION_REQUESTED,
        question,
        request_id=request.id,
        answer_by=answer_by.isoformat(),
    )
    return request


def answer_explanation(
    ctx: Context, actor: User, task: Task, request_id: int, answer: str
) -> ExplanationRequest:
    """The lead unit's explanation; it closes the request."""
    request = ctx.session.get(ExplanationRequest, request_id)
    if request is None or request.task_id != task.id:
        raise NotFound(
            N_("task %(task)s has no request to explain %(request)s"),
            task=task.id,
            request=request_id,
        )
    require(actor, Action.EXPLAIN, request.task)
    if request.status != "open":
        raise IllegalTransition(
            N_("request to explain %(request)s was answered already"), request=request_id
        )
    request.answer = _text(answer, N_("answer"))
    request.status = "answered"
    request.answered_at, request.answered_by = ctx.now(), actor
    _note(
        ctx,
        request.task,
        actor,
        EXPLANATION_GIVEN,
        request.answer,
        request_id=request.id,
        days_late=request.days_late(ctx.today()),
    )
    return request


# --- what the screens read -------------------------------------------------------------------


@dataclass(frozen=True)
class Discussion:
    """The conversation on one task, oldest first."""

    directions: list[TaskEvent]
    comments: list[TaskEvent]
    explanations: list[ExplanationRequest]

    @property
    def open_explanation(self) -> ExplanationRequest | None:
        return next((r for r in self.explanations if r.status == "open"), None)


def discussion(session: Session, task: Task) -> Discussion:
    entries = session.scalars(
        sa.select(TaskEvent)
        .where(TaskEvent.task_id == task.id, TaskEvent.action.in_((DIRECTION, COMMENT)))
        .order_by(TaskEvent.at, TaskEvent.id)
        .options(selectinload(TaskEvent.actor))
    ).all()
    explanations = session.scalars(
        sa.select(ExplanationRequest)
        .where(ExplanationRequest.task_id == task.id)
        .order_by(ExplanationRequest.requested_at, ExplanationRequest.id)
        .options(
            selectinload(ExplanationRequest.requested_by),
            selectinload(ExplanationRequest.answered_by),
        )
    ).all()
    return Discussion(
        directions=[e for e in entries if e.action == DIRECTION],
        comments=[e for e in entries if e.action == COMMENT],
        explanations=list(explanations),
    )


def _with_task(query: sa.Select, entity) -> sa.Select:
    return (
        query.join(entity.task)
        .join(Task.plan)
        .options(contains_eager(entity.task).contains_eager(Task.plan))
    )


def explanations_owed(session: Session, unit_id: int) -> list[ExplanationRequest]:
    """Requests to explain that the unit has not answered yet, the most urgent first."""
    query = _with_task(sa.select(ExplanationRequest), ExplanationRequest).where(
        ExplanationRequest.status == "open", led_by(unit_id)
    )
    return list(
        session.scalars(
            query.options(joinedload(ExplanationRequest.requested_by)).order_by(
                ExplanationRequest.answer_by, ExplanationRequest.id
            )
        ).unique()
    )


def recent_directions(session: Session, unit_id: int, now: datetime) -> list[TaskEvent]:
    """Directions left in the last 30 days on tasks the unit leads or cooperates on, newest first."""
    involved = Task.id.in_(sa.select(TaskUnit.task_id).where(TaskUnit.unit_id == unit_id))
    query = _with_task(sa.select(TaskEvent), TaskEvent).where(
        TaskEvent.action == DIRECTION,
        TaskEvent.at >= now - timedelta(days=RECENT_DAYS),
        involved,
    )
    return list(
        session.scalars(
            query.options(joinedload(TaskEvent.actor)).order_by(
                TaskEvent.at.desc(), TaskEvent.id.desc()
            )
        ).unique()
    )


def explanations_for_board(
    session: Session, unit_ids: Sequence[int] | None, now: datetime
) -> list[ExplanationRequest]:
    """For leadership: every request still open, and those answered in the last 30 days."""
    recent = now - timedelta(days=RECENT_DAYS)
    query = _with_task(sa.select(ExplanationRequest), ExplanationRequest).where(
        in_scope(unit_ids),
        sa.or_(ExplanationRequest.status == "open", ExplanationRequest.answered_at >= recent),
    )
    return list(
        session.scalars(
            query.options(
                joinedload(ExplanationRequest.requested_by),
                joinedload(ExplanationRequest.answered_by),
            ).order_by(
                ExplanationRequest.status.desc(),  # "open" before "answered"
                ExplanationRequest.answer_by,
                ExplanationRequest.id,
            )
        ).unique()
    )
