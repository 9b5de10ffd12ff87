"""The notification centre and the mail that has not left: what a person was told in the app,
what they have read, and, for the Office, the e-mails still waiting or given up on.

A notice belongs to the person it addresses: nobody else reads or marks it, and to anybody else
it does not exist. The unread count runs on every page a signed-in person opens, so it is one
COUNT over the index on (user_id, read_at).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from workflow.board import organisation_unit_ids, require_office
from workflow.context import Context
from workflow.errors import NotFound
from workflow.messages import N_
from workflow.models import Notification, OutboxMessage, User
from workflow.pagination import PER_PAGE, Page, paginate


def inbox(
    session: Session, user: User, page: int = 1, per_page: int = PER_PAGE
) -> Page[Notification]:
    """The user's notifications, the newest first, a page at a time."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paginate(session, query, page, per_page, scalars=True)


def unread_count(session: Session, user: User) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(ctx: Context, user: User, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read (once: a second time changes nothing)."""
    found = ctx.session.get(Notification, notification_id)
    if found is None or found.user_id != user.id:
        raise NotFound(N_("notification %(id)s does not exist"), id=notification_id)
    if found.read_at is None:
        found.read_at = ctx.now()
    return found


def mark_all_read(ctx: Context, user: User) -> int:
    """Mark every unread notification of the user read; how many there were."""
    result = ctx.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- e-mail not yet sent ---------------------------------------------------------------------


def _undelivered(session: Session, user: User) -> sa.Select:
    """Messages retried or given up on, of recipients in the user's organisation (every message,
    those of no notification included, for an administrator or an account without a unit)."""
    require_office(user)
    query = sa.select(OutboxMessage).where(
        sa.or_(
            OutboxMessage.status == "failed",
            sa.and_(OutboxMessage.status == "pending", OutboxMessage.attempts > 0),
        )
    )
    unit_ids = organisation_unit_ids(session, user)
    if unit_ids is None:
        return query.outerjoin(OutboxMessage.notification).outerjoin(Notification.user)
    return (
        query.join(OutboxMessage.notification)
        .join(Notification.user)
        .where(User.unit_id.in_(unit_ids))
    )


def undelivered_mail(
    session: Session, user: User, page: int = 1, per_page: int = PER_PAGE
) -> Page[OutboxMessage]:
    """E-mails the sender has tried and not delivered (still retrying, or failed), the newest
    first, each with its notification and recipient loaded: for the Office and administrators."""
    query = (
        _undelivered(session, user)
        .options(contains_eager(OutboxMessage.notification).contains_eager(Notification.user))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    return paginate(session, query, page, per_page, scalars=True)


def undelivered_count(session: Session, user: User) -> int:
    query = _undelivered(session, user).with_only_columns(sa.func.count(OutboxMessage.id))
    return session.scalar(query) or 0
