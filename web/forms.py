"""Forms and fields used on more than one page: the Office queue and the task page review the
same report with the same fields, every form that changes a task carries its version, and every
date is typed the Vietnamese way."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput, TextInput

from workflow.directions import MAX_TEXT

NOTE_LENGTH = 5000
_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DAY_PLACEHOLDER = "dd/mm/yyyy"


def parse_day(text: str) -> date | None:
    """A day as Vietnamese write it (30/6/2026, 30/06/2026) or in ISO form (2026-06-30)."""
    text = text.strip()
    if match := _DAY.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def not_a_day(text: str) -> str:
    """Why ``text`` was refused, in the reader's language."""
    return _("'%(value)s' is not a date (dd/mm/yyyy)", value=text)


class DayField(Field):
    """A date typed the Vietnamese way, dd/mm/yyyy, in a plain text input.

    A browser's date input shows the browser's locale (mm/dd/yyyy in an English browser) while
    the app writes dd/mm/yyyy everywhere. An empty input is None (pair with ``Optional`` or
    ``InputRequired``, not ``DataRequired``, which would hide why a date was refused); a form
    shown again keeps what was typed.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        render_kw = {"placeholder": DAY_PLACEHOLDER, "inputmode": "numeric", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:%d/%m/%Y}" if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = parse_day(text) if text else None
        if text and self.data is None:
            raise ValueError(not_a_day(text))


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


# --- directions, requests to explain, answers, comments (web/directions.py) ---

DISCUSSION_TEXT = [DataRequired(), Length(max=MAX_TEXT)]


class DirectionForm(FlaskForm):
    text = TextAreaField(_l("Direction"), validators=DISCUSSION_TEXT)


class ExplanationForm(FlaskForm):
    question = TextAreaField(_l("What must the unit explain?"), validators=DISCUSSION_TEXT)
    answer_by = DayField(_l("Answer by"), validators=[Optional()])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Explanation"), validators=DISCUSSION_TEXT)


class CommentForm(FlaskForm):
    text = TextAreaField(_l("Comment"), validators=DISCUSSION_TEXT)


DISCUSSION_FORMS = {
    "direction_form": DirectionForm,
    "explanation_form": ExplanationForm,
    "answer_form": AnswerForm,
    "comment_form": CommentForm,
}


def fresh_discussion_forms(answer_by: date) -> dict[str, FlaskForm]:
    """Empty discussion forms for the task page; the request proposes ``answer_by``."""
    forms = {name: form(formdata=None) for name, form in DISCUSSION_FORMS.items()}
    forms["explanation_form"].answer_by.data = answer_by
    return forms
