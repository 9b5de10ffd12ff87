"""The four classes of Vietnamese task-monitoring reports, as of any date.

Hoàn thành đúng hạn (completed on time), hoàn thành quá hạn (completed late), chưa đến hạn
(not yet due), quá hạn (overdue). One SQL expression is the single home of the rule, so the
overdue board, the CLI and every report count the same way.

An item is judged against its due date in force: an extension granted by the Office moves the
bar, and the original date stays on the item (``original_due_date``) and in its history, so a
report can say "on time, after an extension". A deadline day itself is not late: a time limit
ends at the end of its last day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from workflow.models import DueItem


class DueClass(StrEnum):
    COMPLETED_ON_TIME = "completed_on_time"
    COMPLETED_LATE = "completed_late"
    NOT_YET_DUE = "not_yet_due"
    OVERDUE = "overdue"


def due_class(as_of: date) -> ColumnElement[str]:
    done = sa.and_(DueItem.status == "satisfied", DueItem.satisfied_on <= as_of)
    return sa.case(
        (sa.and_(done, DueItem.satisfied_on <= DueItem.due_date), DueClass.COMPLETED_ON_TIME.value),
        (done, DueClass.COMPLETED_LATE.value),
        (DueItem.due_date >= as_of, DueClass.NOT_YET_DUE.value),
        else_=DueClass.OVERDUE.value,
    )


def live_as_of(as_of: date) -> ColumnElement[bool]:
    """Items that counted on ``as_of``: not cancelled, or cancelled only later."""
    return sa.or_(DueItem.status != "cancelled", DueItem.cancelled_on > as_of)


def is_overdue(as_of: date) -> ColumnElement[bool]:
    not_done = sa.or_(DueItem.status != "satisfied", DueItem.satisfied_on > as_of)
    return sa.and_(live_as_of(as_of), not_done, DueItem.due_date < as_of)


# The class of a task with several due items, most pressing first: a task is overdue when any of
# its items is; otherwise not yet due while anything of it is still to come; otherwise completed
# late when any item was; otherwise completed on time.
TASK_CLASS_ORDER = (
    DueClass.OVERDUE,
    DueClass.NOT_YET_DUE,
    DueClass.COMPLETED_LATE,
    DueClass.COMPLETED_ON_TIME,
)


def task_class(classes: Iterable[DueClass | str]) -> DueClass | None:
    """One task's class from the classes of its due items; None when it has none."""
    found = {DueClass(c) for c in classes}
    return next((c for c in TASK_CLASS_ORDER if c in found), None)
