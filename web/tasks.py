"""The task page: details, due items, reports, history, and the forms the viewer may use."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from web.auth import me
from web.errors import describe
from web.forms import (
    DISCUSSION_FORMS,
    AcceptForm,
    DayField,
    ReasonForm,
    ReturnForm,
    fresh_discussion_forms,
    reason_field,
    version_field,
)
from web.work import ctx, undo
from workflow import tasks as svc
from workflow.directions import default_answer_by
from workflow.errors import InvalidInput
from workflow.models import DueItem
from workflow.permissions import Action, require
from workflow.regime import describe_period
from workflow.unit_view import task_page, task_report

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

STATE_LABELS = {
    "draft": _l("Draft"),
    "waiting": _l("Waiting for guidance"),
    "in_progress": _l("In progress"),
    "reported": _l("Reported"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
    "superseded": _l("Superseded"),
}
STATE_BADGES = {
    "draft": "muted",
    "waiting": "wait",
    "in_progress": "soon",
    "reported": "wait",
    "closed": "ok",
    "cancelled": "muted",
    "superseded": "muted",
}
KIND_LABELS = {
    "deadline": _l("Deadline"),
    "occurrence": _l("Occurrence"),
    "report": _l("Periodic report"),
}
TIMING_LABELS = {
    "fixed": _l("Fixed deadline"),
    "range": _l("Period of years"),
    "ongoing": _l("Ongoing"),
    "recurring": _l("Recurring"),
    "conditional": _l("After guidance"),
    "unknown": _l("Unreadable: needs review"),
}
FREQUENCY_LABELS = {
    "monthly": _l("monthly"),
    "quarterly": _l("quarterly"),
    "semiannual": _l("half-yearly"),
    "annual": _l("annual"),
}
CLASS_LABELS = {
    "completed_on_time": _l("Completed on time"),
    "completed_late": _l("Completed late"),
    "not_yet_due": _l("Not yet due"),
    "overdue": _l("Overdue"),
}
CLASS_BADGES = {
    "completed_on_time": "ok",
    "completed_late": "soon",
    "not_yet_due": "wait",
    "overdue": "late",
}
DUE_STATUS_LABELS = {
    "open": _l("Open"),
    "satisfied": _l("Satisfied"),
    "cancelled": _l("Cancelled"),
}
REPORT_STATUS_LABELS = {
    "submitted": _l("Waiting for review"),
    "accepted": _l("Accepted"),
    "returned": _l("Returned"),
}
ACTION_LABELS = {
    "imported": _l("Imported"),
    "start": _l("Started"),
    "release": _l("Released by its guidance"),
    "report": _l("Report submitted"),
    "accept": _l("Report accepted"),
    "return": _l("Report returned"),
    "reopen": _l("Reopened"),
    "cancel": _l("Cancelled"),
    "supersede": _l("Superseded"),
    "timing_changed": _l("Timing changed"),
    "trigger_recorded": _l("Guidance recorded"),
    "extension_requested": _l("Extension requested"),
    "extension_granted": _l("Extension granted"),
    "extension_refused": _l("Extension refused"),
    "direction": _l("Direction"),
    "comment": _l("Comment"),
    "explanation_requested": _l("Asked to explain"),
    "explanation_given": _l("Explanation given"),
}

LABELS = {
    "state_labels": STATE_LABELS,
    "state_badges": STATE_BADGES,
    "kind_labels": KIND_LABELS,
    "timing_labels": TIMING_LABELS,
    "frequency_labels": FREQUENCY_LABELS,
    "class_labels": CLASS_LABELS,
    "class_badges": CLASS_BADGES,
    "due_status_labels": DUE_STATUS_LABELS,
    "report_status_labels": REPORT_STATUS_LABELS,
    "action_labels": ACTION_LABELS,
}


@bp.app_context_processor
def _labels() -> dict:
    """The labels every page uses for states, kinds and classes (the task page's own and the
    pages that render its forms, e.g. a refused direction)."""
    return LABELS


class ReportForm(FlaskForm):
    period = SelectField(_l("Period"), validators=[InputRequired()], validate_choice=True)
    text = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=20000)])
    difficulties = TextAreaField(
        _l("Difficulties and proposals (optional)"), validators=[Optional(), Length(max=20000)]
    )
    progress = IntegerField(
        _l("Progress (%)"),
        validators=[
            InputRequired(),
            NumberRange(0, 100, message=_l("A whole number from 0 to 100.")),
        ],
    )
    version = version_field()


class ExtensionForm(FlaskForm):
    period = SelectField(_l("Due item"), validators=[InputRequired()], validate_choice=True)
    reason = reason_field(_l("Reason"))
    proposed_date = DayField(_l("Proposed date"), validators=[Optional()])
    version = version_field()


def _period_choices(items: list[DueItem]) -> list[tuple[str, str]]:
    choices = []
    for item in items:
        if item.kind == "deadline":
            label = _("Task deadline (complete reports only)")
        else:
            label = f"{describe(describe_period(item.period_key))} · {KIND_LABELS[item.kind]}"
        choices.append((f"{item.kind}:{item.period_key}", f"{label} · {item.due_date:%d/%m/%Y}"))
    return choices


def render_task(
    task_id: int, status: int = 200, review_report_id: int | None = None, **forms: FlaskForm
):
    """Render the task page; forms not given are fresh, carrying the task's current version.

    A form given (one that failed validation) keeps what was typed and shows its errors.
    """
    task = svc.get_task(ctx(), task_id, actor=me())
    page = task_page(ctx().session, me(), task, ctx().today())
    fresh = {"version": task.version}
    report_form = forms.get("report_form") or ReportForm(formdata=None, progress=0, **fresh)
    extension_form = forms.get("extension_form") or ExtensionForm(formdata=None, **fresh)
    choices = _period_choices(page.open_items)
    report_form.period.choices = choices
    extension_form.period.choices = choices
    return (
        render_template(
            "tasks/show.html",
            page=page,
            task=task,
            today=ctx().today(),
            report_form=report_form,
            extension_form=extension_form,
            accept_form=forms.get("accept_form") or AcceptForm(formdata=None, **fresh),
            return_form=forms.get("return_form") or ReturnForm(formdata=None, **fresh),
            review_report_id=review_report_id,
            reopen_form=forms.get("reopen_form") or ReasonForm(formdata=None, **fresh),
            cancel_form=forms.get("cancel_form") or ReasonForm(formdata=None, **fresh),
            **fresh_discussion_forms(default_answer_by(ctx()))
            | {name: form for name, form in forms.items() if name in DISCUSSION_FORMS},
        ),
        status,
    )


def _unless_stale(task_id: int, seen: int | None) -> None:
    """Before refusing a form, undo what the request began and raise :class:`Conflict` (409,
    "reload") if the task changed since the form was shown: what went wrong is the change, not
    the period it satisfied meanwhile. Read afresh, in a new transaction: on PostgreSQL another
    request may have committed after this one read the task and before it read the rest."""
    undo()
    svc.check_version(svc.get_task(ctx(), task_id), seen)


def _back(task_id: int, message: str):
    flash(message, "info")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.route("/<int:task_id>")
@login_required
def show(task_id: int):
    return render_task(task_id)


@bp.route("/<int:task_id>/report", methods=["POST"])
@login_required
def report(task_id: int):
    task = svc.get_task(ctx(), task_id, actor=me())
    require(me(), Action.REPORT, task)
    form = ReportForm()
    form.period.choices = _period_choices(svc.open_items(ctx(), task))
    if not form.validate():
        _unless_stale(task_id, form.version.data)
        return render_task(task_id, 400, report_form=form)
    try:
        svc.submit_report(
            ctx(),
            me(),
            task,
            text=form.text.data,
            progress=form.progress.data,
            period_key=form.period.data,
            expected_version=form.version.data,
            difficulties=form.difficulties.data or "",
        )
    except InvalidInput as exc:
        _unless_stale(task_id, form.version.data)
        form.form_errors.append(describe(exc))
        return render_task(task_id, 400, report_form=form)
    return _back(task_id, _("Your report is submitted."))


@bp.route("/<int:task_id>/extension", methods=["POST"])
@login_required
def extension(task_id: int):
    task = svc.get_task(ctx(), task_id, actor=me())
    require(me(), Action.REQUEST_EXTENSION, task)
    form = ExtensionForm()
    form.period.choices = _period_choices(svc.open_items(ctx(), task))
    if not form.validate():
        _unless_stale(task_id, form.version.data)
        return render_task(task_id, 400, extension_form=form)
    try:
        svc.request_extension(
            ctx(),
            me(),
            task,
            reason=form.reason.data,
            period_key=form.period.data,
            proposed_date=form.proposed_date.data,
            expected_version=form.version.data,
        )
    except InvalidInput as exc:
        _unless_stale(task_id, form.version.data)
        form.form_errors.append(describe(exc))
        return render_task(task_id, 400, extension_form=form)
    return _back(task_id, _("Your request for an extension is sent."))


@bp.route("/<int:task_id>/reports/<int:report_id>/accept", methods=["POST"])
@login_required
def accept(task_id: int, report_id: int):
    task = svc.get_task(ctx(), task_id, actor=me())
    task_report(ctx().session, task, report_id)
    require(me(), Action.ACCEPT, task)
    form = AcceptForm()
    if not form.validate():
        return render_task(task_id, 400, accept_form=form, review_report_id=report_id)
    svc.accept_report(ctx(), me(), report_id, form.note.data or "", form.version.data)
    return _back(task_id, _("The report is accepted."))


@bp.route("/<int:task_id>/reports/<int:report_id>/return", methods=["POST"])
@login_required
def return_(task_id: int, report_id: int):
    task = svc.get_task(ctx(), task_id, actor=me())
    task_report(ctx().session, task, report_id)
    require(me(), Action.RETURN, task)
    form = ReturnForm()
    if not form.validate():
        return render_task(task_id, 400, return_form=form, review_report_id=report_id)
    svc.return_report(ctx(), me(), report_id, form.reason.data, form.version.data)
    return _back(task_id, _("The report is returned to the unit."))


@bp.route("/<int:task_id>/reopen", methods=["POST"])
@login_required
def reopen(task_id: int):
    task = svc.get_task(ctx(), task_id, actor=me())
    require(me(), Action.REOPEN, task)
    form = ReasonForm()
    if not form.validate():
        return render_task(task_id, 400, reopen_form=form)
    svc.reopen_task(ctx(), me(), task, form.reason.data, form.version.data)
    return _back(task_id, _("The task is reopened."))


@bp.route("/<int:task_id>/cancel", methods=["POST"])
@login_required
def cancel(task_id: int):
    task = svc.get_task(ctx(), task_id, actor=me())
    require(me(), Action.CANCEL, task)
    form = ReasonForm()
    if not form.validate():
        return render_task(task_id, 400, cancel_form=form)
    svc.cancel_task(ctx(), me(), task, form.reason.data, form.version.data)
    return _back(task_id, _("The task is cancelled."))
