"""The task state machine, built once with ``transitions`` and fired through :func:`fire`.

``draft → in_progress → reported → closed``, plus ``waiting`` for conditional tasks, *return*
(the Office sends a report back), *reopen*, *cancel* and *supersede*. Guards are transition
conditions, evaluated before the state changes; the surrounding database transaction is what
commits or rolls back. :func:`fire` checks the permission contract first, so no caller can
skip it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions import EventData, Machine, MachineError

from workflow.errors import IllegalTransition
from workflow.messages import N_, Message, term
from workflow.models import Task, User
from workflow.permissions import Action, require

OPEN_STATES = ["draft", "waiting", "in_progress", "reported"]
STATES = [*OPEN_STATES, "closed", "cancelled", "superseded"]


def _flag(name: str) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        return bool(event.kwargs.get(name))

    condition.__name__ = name
    return condition


TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": "start",
        "source": "draft",
        "dest": "waiting",
        "conditions": _flag("awaits_trigger"),
    },
    {"trigger": "start", "source": "draft", "dest": "in_progress"},
    {"trigger": "release", "source": "waiting", "dest": "in_progress"},
    {"trigger": "report", "source": ["in_progress", "reported"], "dest": "reported"},
    {"trigger": "accept", "source": "reported", "dest": "closed", "conditions": _flag("completes")},
    {"trigger": "accept", "source": "reported", "dest": "reported", "conditions": _flag("pending")},
    {"trigger": "accept", "source": "reported", "dest": "in_progress"},
    {"trigger": "return", "source": "reported", "dest": "reported", "conditions": _flag("pending")},
    {"trigger": "return", "source": "reported", "dest": "in_progress"},
    {"trigger": "reopen", "source": "closed", "dest": "in_progress"},
    {"trigger": "cancel", "source": OPEN_STATES, "dest": "cancelled"},
    {"trigger": "supersede", "source": OPEN_STATES, "dest": "superseded"},
]

EVENT_ACTIONS: dict[str, Action] = {
    "start": Action.START,
    "release": Action.RELEASE,
    "report": Action.REPORT,
    "accept": Action.ACCEPT,
    "return": Action.RETURN,
    "reopen": Action.REOPEN,
    "cancel": Action.CANCEL,
    "supersede": Action.SUPERSEDE,
}

MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="draft",
    auto_transitions=False,
    model_attribute="status",
    send_event=True,
)


def allowed_events(task: Task) -> list[str]:
    """Events the machine accepts from the task's state (permissions aside)."""
    return sorted(MACHINE.get_triggers(task.status))


def fire(task: Task, event: str, actor: User | None, **flags: bool) -> tuple[str, str]:
    """Fire ``event`` on ``task`` as ``actor``; return (from, to). Changes nothing on refusal."""
    action = EVENT_ACTIONS.get(event)
    if action is None:
        raise IllegalTransition(
            N_("unknown action %(event)s (expected one of: %(known)s)"),
            event=repr(event),
            known=[term(e) for e in EVENT_ACTIONS],
        )
    require(actor, action, task)
    before = task.status
    try:
        moved = MACHINE.events[event].trigger(task, **flags)
    except MachineError:
        moved = False
    if not moved:
        allowed = [term(e) for e in allowed_events(task)] or Message(N_("nothing"))
        raise IllegalTransition(
            N_(
                "task %(task)s (%(ref)s) is %(status)s: cannot %(event)s (allowed from here: %(allowed)s)"
            ),
            task=task.id,
            ref=task.ref,
            status=term(before),
            event=term(event),
            allowed=allowed,
        )
    return before, task.status
