"""Plan-level use cases: finding plans, starting them, and supersession.

Supersession (thay thế). A plan that replaces another takes over what is still open of it:

* an open task of the old plan whose name the new plan repeats is *carried over*: it ends as
  ``superseded`` with a link to its successor, whose history starts from the link back;
* an open task the new plan does not repeat is *not carried over*: it also ends as
  ``superseded`` (not ``cancelled``), because the issuing body withdrew it by issuing the new
  plan, not because a unit failed or the Office cancelled it;
* closed and cancelled tasks stay as they were: what was done under the old plan stays done.

Either way the old task's open due items are cancelled, so nothing of the old plan is counted
overdue any more, and the old plan is marked superseded.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from workflow.context import Context
from workflow.due import regenerate
from workflow.errors import InvalidInput, NotFound
from workflow.lifecycle import OPEN_STATES
from workflow.messages import N_, Message
from workflow.models import Plan, Task, User
from workflow.permissions import Action, require, require_organisation
from workflow.tasks import apply_transition, close_pending_requests, record_change


def find_plan(ctx: Context, ref: str) -> Plan:
    """A plan by its code, or by its number when exactly one plan has that number."""
    plan = ctx.session.scalar(sa.select(Plan).where(Plan.code == ref))
    if plan is not None:
        return plan
    matches = ctx.session.scalars(sa.select(Plan).where(Plan.number == ref)).all()
    if len(matches) == 1:
        return matches[0]
    if matches:
        codes = ", ".join(p.code for p in matches)
        raise InvalidInput(
            N_("plan number %(number)s is shared by several drafts: give a code (%(codes)s)"),
            number=repr(ref),
            codes=codes,
        )
    raise NotFound(N_("plan %(plan)s does not exist (give its code or its number)"), plan=repr(ref))


def own_plan(ctx: Context, actor: User, ref: str, doing: str) -> Plan:
    """A plan of the actor's organisation, by code or number; ``doing`` (marked with ``N_``,
    with ``%(plan)s``) says what the actor means to do with it, for the refusal."""
    plan = find_plan(ctx, ref)
    require_organisation(actor, plan.issuer, Message(doing, plan=plan.number))
    return plan


def supersede_plan(ctx: Context, actor: User, new_plan: Plan, old_plan: Plan) -> list[str]:
    """Record that ``new_plan`` replaces ``old_plan``; returns one line per task it ended."""
    require(actor, Action.SUPERSEDE)
    require_organisation(
        actor, old_plan.issuer, Message(N_("supersede plan %(plan)s"), plan=old_plan.number)
    )
    if new_plan.id == old_plan.id:
        raise InvalidInput(N_("plan %(plan)s cannot supersede itself"), plan=new_plan.number)
    new_plan.supersedes = old_plan
    old_plan.status = "superseded"
    successors = {task.name_key: task for task in new_plan.tasks}
    lines: list[str] = []
    for task in old_plan.tasks:
        if task.status not in OPEN_STATES:
            continue
        successor = successors.get(task.name_key)
        if successor is not None:
            note = f"chuyển sang {new_plan.number} {successor.ref}"
            lines.append(f"{task.ref} carried over to {new_plan.number} {successor.ref}")
        else:
            note = f"không chuyển sang {new_plan.number}"
            lines.append(f"{task.ref} ended: {new_plan.number} does not repeat it")

        closed = close_pending_requests(ctx, task, actor, f"Kế hoạch {new_plan.number} thay thế")

        def link(task=task, successor=successor) -> None:
            task.superseded_by = successor
            if successor is not None:
                record_change(
                    ctx,
                    successor,
                    actor,
                    "carried_over",
                    note=f"tiếp nối {old_plan.number} {task.ref}",
                    changes={"from_task": task.id},
                )

        apply_transition(
            ctx,
            task,
            "supersede",
            actor,
            note=note,
            changes={
                "plan": new_plan.number,
                "successor": successor.ref if successor else None,
                "extension_requests_closed": closed,
            },
            before_regenerate=link,
        )
    return lines


@dataclass
class Refresh:
    tasks: int = 0
    created: int = 0
    moved: int = 0
    cancelled: int = 0


def refresh_due_items(ctx: Context, plan_id: int | None = None) -> Refresh:
    """Bring every started task's due items up to date: roll the horizon forward, apply the
    Office's calendar changes. Idempotent; run daily by the scheduler and after a calendar edit.

    Items that merely come into the horizon are not a change to the task and write no history;
    items moved or cancelled (a calendar change) do.
    """
    query = (
        sa.select(Task)
        .where(Task.status.in_(("in_progress", "reported", "closed")))
        .options(selectinload(Task.plan), selectinload(Task.trigger_document))
        .order_by(Task.id)
    )
    if plan_id is not None:
        query = query.where(Task.plan_id == plan_id)
    result = Refresh()
    generation = ctx.generation()
    for task in ctx.session.scalars(query):
        result.tasks += 1
        with ctx.session.no_autoflush:
            changes = regenerate(ctx.session, task, generation)
            result.created += len(changes.created)
            result.moved += len(changes.moved)
            result.cancelled += len(changes.cancelled)
            if changes.moved or changes.cancelled or changes.extensions_dropped:
                record_change(ctx, task, None, "due_items_updated", due_changes=changes)
    return result
