"""An indicator's page: its target, the history of its values, and the form to report one.

Thin views: reading and judging values is :mod:`workflow.indicators`.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from web.auth import me
from web.errors import describe
from web.work import ctx, undo
from workflow.errors import InvalidInput
from workflow.indicators import (
    NOTE_LENGTH,
    VALUE_LENGTH,
    IndicatorPage,
    TargetKind,
    indicator_page,
    record_indicator_value,
)

bp = Blueprint("indicators", __name__, url_prefix="/plans")

STATUS_LABELS = {
    "met": _l("Met"),
    "not_met": _l("Not met"),
    "no_data": _l("No data"),
    "no_target": _l("No target"),
}
STATUS_BADGES = {"met": "ok", "not_met": "late", "no_data": "wait", "no_target": "muted"}
COMPARATOR_LABELS = {
    "≥": _l("at least"),
    ">": _l("more than"),
    "≤": _l("at most"),
    "<": _l("less than"),
    "=": _l("exactly"),
}


@bp.app_context_processor
def _labels() -> dict:
    """The words and colours of the statuses, for every page that shows an indicator."""
    return {"indicator_status_labels": STATUS_LABELS, "indicator_status_badges": STATUS_BADGES}


class ValueForm(FlaskForm):
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=16)])
    value = StringField(_l("Value"), validators=[DataRequired(), Length(max=VALUE_LENGTH)])
    source_note = TextAreaField(
        _l("Source of the figure"), validators=[Optional(), Length(max=NOTE_LENGTH)]
    )
    assessment = SelectField(
        _l("Against the target"),
        choices=[("", "—"), ("met", _l("Met")), ("not_met", _l("Not met"))],
        validate_choice=True,
    )


def _form(page: IndicatorPage, form: ValueForm | None = None) -> ValueForm:
    """The form as given (refused: it keeps what was typed), or a fresh one for this year; the
    assessment only for a target written in words."""
    form = form or ValueForm(formdata=None, period=str(ctx().today().year))
    if page.target is not TargetKind.WORDS and "assessment" in form:
        del form.assessment
    return form


def _render(page: IndicatorPage, form: ValueForm | None = None, status: int = 200):
    return render_template(
        "plans/indicator.html",
        page=page,
        form=_form(page, form),
        comparators=COMPARATOR_LABELS,
    ), status


@bp.route("/<code>/indicators/<int:indicator_id>")
@login_required
def show(code: str, indicator_id: int):
    return _render(indicator_page(ctx().session, me(), code, indicator_id))


@bp.route("/<code>/indicators/<int:indicator_id>/values", methods=["POST"])
@login_required
def record(code: str, indicator_id: int):
    page = indicator_page(ctx().session, me(), code, indicator_id)
    form = _form(page, ValueForm())
    if not form.validate():
        return _render(page, form, 400)
    try:
        record_indicator_value(
            ctx(),
            me(),
            indicator_id,
            form.period.data,
            form.value.data,
            form.source_note.data or "",
            form.assessment.data if "assessment" in form else None,
        )
    except InvalidInput as exc:
        undo()  # the page is read again: what the rolled-back session held is gone
        form.form_errors.append(describe(exc))
        return _render(indicator_page(ctx().session, me(), code, indicator_id), form, 400)
    flash(_("The value is recorded."), "info")
    return redirect(url_for("indicators.show", code=code, indicator_id=indicator_id))
