"""Who may do what: the single contract every caller goes through (DESIGN §3).

| role                      | may                                                             |
|---------------------------|-----------------------------------------------------------------|
| unit head, unit delegate  | report, ask for extensions and answer requests to explain on    |
|                           | tasks their unit leads; see and comment on tasks their unit     |
|                           | leads or cooperates on                                          |
| office                    | manage plans, units and users; start, accept, return, reopen,   |
|                           | cancel, release; decide extensions; see everything; and, like a |
|                           | unit, report on tasks the Office itself leads                   |
| leadership                | see everything, give directions, ask a lead unit to explain a   |
|                           | delay; no data entry                                            |
| admin                     | everything                                                      |

Indicators (chỉ tiêu) follow the same lines: heads and delegates of an indicator's lead units
report its values, and so does the Office of the plan's organisation (it collects the figures);
those who see everything in the organisation, and the units named on it, see it.

Office and leadership act within their own organisation: the top-level unit above their unit
(a province, a ward). One instance may hold several; only an administrator spans them.
"""

from __future__ import annotations

from enum import StrEnum

from workflow.errors import PermissionDenied
from workflow.messages import N_, Message, as_message, term
from workflow.models import Indicator, Report, Task, Unit, User


class Action(StrEnum):
    VIEW = "view"
    REPORT = "report"
    REQUEST_EXTENSION = "request_extension"
    START = "start"
    ACCEPT = "accept"
    RETURN = "return"
    REOPEN = "reopen"
    CANCEL = "cancel"
    RELEASE = "release"
    DECIDE_EXTENSION = "decide_extension"
    EDIT = "edit"
    SUPERSEDE = "supersede"
    IMPORT = "import"
    MANAGE_UNITS = "manage_units"
    MANAGE_USERS = "manage_users"
    DIRECT = "direct"
    REQUEST_EXPLANATION = "request_explanation"
    EXPLAIN = "explain"
    COMMENT = "comment"


LEAD_UNIT_ACTIONS = frozenset({Action.REPORT, Action.REQUEST_EXTENSION, Action.EXPLAIN})
LEADERSHIP_ACTIONS = frozenset({Action.DIRECT, Action.REQUEST_EXPLANATION})
OFFICE_ACTIONS = frozenset(
    {
        Action.START,
        Action.ACCEPT,
        Action.RETURN,
        Action.REOPEN,
        Action.CANCEL,
        Action.RELEASE,
        Action.DECIDE_EXTENSION,
        Action.EDIT,
        Action.SUPERSEDE,
        Action.IMPORT,
        Action.MANAGE_UNITS,
        Action.MANAGE_USERS,
    }
)
UNIT_ROLES = frozenset({"unit_head", "unit_delegate"})
SEES_EVERYTHING = frozenset({"office", "leadership", "admin"})


def leads(user: User, task: Task) -> bool:
    return user.unit_id is not None and any(
        link.unit_id == user.unit_id and link.role == "lead" for link in task.unit_links
    )


def involved(user: User, task: Task) -> bool:
    return user.unit_id is not None and any(
        link.unit_id == user.unit_id for link in task.unit_links
    )


def organisation(unit: Unit) -> Unit:
    return unit.lineage()[-1]


def in_organisation(user: User, unit: Unit | None) -> bool:
    """Whether ``unit`` belongs to the user's organisation (always, for a user without a unit)."""
    return user.unit is None or unit is None or organisation(user.unit) is organisation(unit)


def _task_unit(task: Task | None) -> Unit | None:
    if task is None:
        return None
    return task.plan.issuer or next(iter(task.lead_units), None)


def can(user: User | None, action: Action, task: Task | None = None) -> bool:
    if user is None or not user.active:
        return False
    if user.role == "admin":
        return True
    own = in_organisation(user, _task_unit(task))
    if action in (Action.VIEW, Action.COMMENT):
        return (user.role in SEES_EVERYTHING and own) or (task is not None and involved(user, task))
    if action in LEAD_UNIT_ACTIONS:
        return user.role in UNIT_ROLES | {"office"} and task is not None and leads(user, task)
    if action in OFFICE_ACTIONS:
        return user.role == "office" and own
    if action in LEADERSHIP_ACTIONS:
        return user.role == "leadership" and own
    return False


def _who(user: User | None) -> Message:
    if user is None:
        return Message(N_("nobody signed in"))
    return Message(N_("%(user)s (%(role)s)"), user=user.username, role=term(user.role))


def require_organisation(user: User, unit: Unit | None, what: str | Message) -> None:
    """``what`` the user means to do, marked with ``N_`` (or a message), for the refusal."""
    if user.role != "admin" and not in_organisation(user, unit):
        raise PermissionDenied(
            N_("%(who)s may not %(what)s: %(unit)s is another organisation"),
            who=_who(user),
            what=as_message(what),
            unit=unit.name,
        )


def require(user: User | None, action: Action, task: Task | None = None) -> None:
    if can(user, action, task):
        return
    who, doing = _who(user), term(action.value)
    if task is None:
        raise PermissionDenied(N_("%(who)s may not %(action)s"), who=who, action=doing)
    on_task = {"task": task.id, "plan": task.plan.number, "ref": task.ref}
    if action in LEAD_UNIT_ACTIONS and user and user.role in UNIT_ROLES:
        raise PermissionDenied(
            N_(
                "%(who)s may not %(action)s on task %(task)s (%(plan)s %(ref)s): "
                "their unit does not lead it"
            ),
            who=who,
            action=doing,
            **on_task,
        )
    raise PermissionDenied(
        N_("%(who)s may not %(action)s on task %(task)s (%(plan)s %(ref)s)"),
        who=who,
        action=doing,
        **on_task,
    )


def _indicator_unit(indicator: Indicator) -> Unit | None:
    """Whose organisation an indicator belongs to: its plan's issuer, else its first lead."""
    return indicator.plan.issuer or next(iter(indicator.units("lead")), None)


def can_on_indicator(user: User | None, action: Action, indicator: Indicator) -> bool:
    """VIEW or REPORT (its values) on an indicator; nothing else applies to one."""
    if user is None or not user.active:
        return False
    if user.role == "admin":
        return True
    own = in_organisation(user, _indicator_unit(indicator))
    links = [link for link in indicator.unit_links if link.unit_id == user.unit_id]
    if action is Action.VIEW:
        return (user.role in SEES_EVERYTHING and own) or (user.unit_id is not None and bool(links))
    if action is Action.REPORT:
        leads_it = user.unit_id is not None and any(link.role == "lead" for link in links)
        return (user.role == "office" and own) or (user.role in UNIT_ROLES and leads_it)
    return False


def require_on_indicator(user: User | None, action: Action, indicator: Indicator) -> None:
    if can_on_indicator(user, action, indicator):
        return
    on_indicator = {
        "who": _who(user),
        "action": term(action.value),
        "indicator": indicator.code or indicator.ref,
        "plan": indicator.plan.number,
    }
    if action is Action.REPORT and user and user.role in UNIT_ROLES:
        raise PermissionDenied(
            N_(
                "%(who)s may not %(action)s on indicator %(indicator)s (%(plan)s): "
                "their unit does not lead it"
            ),
            **on_indicator,
        )
    raise PermissionDenied(
        N_("%(who)s may not %(action)s on indicator %(indicator)s (%(plan)s)"), **on_indicator
    )


def can_review(user: User | None, action: Action, report: Report) -> bool:
    """Accepting or returning a report takes a second person: nobody reviews a report they
    submitted themselves, whatever their role (the Office may report on tasks it leads)."""
    return can(user, action, report.task) and report.submitted_by_id != user.id


def require_review(user: User | None, action: Action, report: Report) -> None:
    require(user, action, report.task)
    if not can_review(user, action, report):
        raise PermissionDenied(
            N_(
                "%(who)s may not %(action)s report %(report)s: they submitted it; a colleague reviews it"
            ),
            who=_who(user),
            action=term(action.value),
            report=report.id,
        )
