"""Forms used on more than one page: the Office queue and the task page review the same
report with the same fields, and every form that changes a task carries its version."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

NOTE_LENGTH = 5000


def version_field() -> IntegerField:
    """The task's version as the page showed it: a stale form is a conflict, not a lost update."""
    return IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def reason_field(label) -> TextAreaField:
    return TextAreaField(label, validators=[DataRequired(), Length(max=NOTE_LENGTH)])


class AcceptForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=NOTE_LENGTH)])
    version = version_field()


class ReasonForm(FlaskForm):
    """Return a report, reopen or cancel a task: a reason is required."""

    reason = reason_field(_l("Reason"))
    version = version_field()


class ReturnForm(ReasonForm):
    reason = reason_field(_l("Reason for returning"))
