"""The morning digest: one message per person with what needs their attention today.

A unit head or delegate gets the open items of the tasks their unit leads; the Office and
leadership those of their organisation: first what is overdue, then what falls due within a
week. Sent once per person and day (the notification key holds the day), only when there is
something to say, so a scheduler that catches up late in the morning still sends it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.sql.elements import ColumnElement

from workflow.board import in_scope, led_by, units_of_organisation
from workflow.context import Context
from workflow.models import DueItem, Notification, Task, User
from workflow.notices import compose_digest, notify
from workflow.permissions import UNIT_ROLES

AHEAD_DAYS = 7
LISTED = 30  # items named in one message; the rest are counted


@dataclass
class DigestResult:
    sent: int = 0  # people who got a digest
    skipped: int = 0  # people with nothing to attend to today


def morning_digest(ctx: Context) -> DigestResult:
    """Write today's digest for everyone who has not had it yet (and has something due)."""
    session, today, now = ctx.session, ctx.today(), ctx.now()
    prefix = f"digest:{today.isoformat()}:"
    done = set(
        session.scalars(sa.select(Notification.key).where(Notification.key.like(prefix + "%")))
    )
    result = DigestResult()
    for person in session.scalars(
        sa.select(User).where(User.active.is_(True), User.unit_id.is_not(None)).order_by(User.id)
    ):
        key = f"{prefix}{person.id}"
        condition = _followed_by(session, person)
        if key in done or condition is None:
            continue
        overdue, soon = _items(session, condition, today)
        if not overdue.items and not soon.items:
            result.skipped += 1
            continue
        notice = compose_digest(ctx.settings, person, today, overdue, soon)
        notify(session, ctx.settings, person, notice, key=key, kind="digest", now=now)
        result.sent += 1
    session.flush()
    return result


@dataclass(frozen=True)
class Listing:
    """Some items and how many there are in all."""

    items: list[DueItem]
    total: int


def _followed_by(session: Session, person: User) -> ColumnElement[bool] | None:
    if person.role in UNIT_ROLES:
        return led_by(person.unit_id)
    if person.role in ("office", "leadership"):
        return in_scope(units_of_organisation(session, person.unit_id))
    return None


def _items(session: Session, condition: ColumnElement[bool], today) -> tuple[Listing, Listing]:
    base = (
        sa.select(DueItem)
        .join(DueItem.task)
        .join(Task.plan)
        .where(DueItem.status == "open", Task.status.in_(("in_progress", "reported")), condition)
    )

    def listing(where: ColumnElement[bool]) -> Listing:
        query = base.where(where)
        total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        items = session.scalars(
            query.options(contains_eager(DueItem.task).contains_eager(Task.plan))
            .order_by(DueItem.due_date, DueItem.id)
            .limit(LISTED)
        ).unique()
        return Listing(list(items), int(total or 0))

    return (
        listing(DueItem.due_date < today),
        listing(DueItem.due_date.between(today, today + timedelta(days=AHEAD_DAYS))),
    )
