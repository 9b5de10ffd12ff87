"""The Office screen: reports to accept or return, extension requests to decide, tasks waiting
for guidance (and the document that releases them), missing reports by unit; and the e-mails
to the organisation's people that have not left (retrying or failed).

Thin views: who may do what is the engine's contract, what is shown comes from
:mod:`workflow.board`, every change goes through :mod:`workflow.tasks`.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from web.auth import me
from web.errors import describe
from web.forms import AcceptForm, DayField, ReturnForm, reason_field
from web.paging import page_arg, per_page
from web.work import ctx, undo
from workflow import board
from workflow import notifications as notices
from workflow import tasks as svc
from workflow.errors import IllegalTransition, InvalidInput
from workflow.permissions import Action, can_review

bp = Blueprint("office", __name__, url_prefix="/office")


class GrantForm(FlaskForm):
    new_date = DayField(_l("New due date"), validators=[Optional()])


class RefuseForm(FlaskForm):
    reason = reason_field(_l("Reason for refusing"))


class TriggerForm(FlaskForm):
    number = StringField(_l("Document number"), validators=[DataRequired(), Length(max=64)])
    issued_on = DayField(_l("Date of the document"), validators=[InputRequired()])
    issuer = StringField(_l("Issued by"), validators=[DataRequired(), Length(max=255)])
    title = StringField(_l("Title (optional)"), validators=[Optional(), Length(max=2000)])
    tasks = SelectMultipleField(
        _l("Tasks it releases"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose at least one task the document releases."))],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


def _page(
    status: int = 200,
    trigger: TriggerForm | None = None,
    refused_grants: dict[int, GrantForm] | None = None,
):
    """The whole screen, for a GET or to re-display a refused form.

    ``refused_grants`` maps an extension request's id to its refused grant form, shown again
    with the date as typed.
    """
    refused_grants = refused_grants or {}
    context, user = ctx(), me()
    scope = board.organisation_unit_ids(context.session, user)
    today = context.today()
    waiting = board.waiting_tasks(context.session, scope, today)
    if trigger is None:
        trigger = TriggerForm(formdata=None)
        trigger.tasks.choices = _choices(waiting)
    queue = board.acceptance_queue(context.session, scope)
    extensions = board.pending_extensions(context.session, scope)
    return render_template(
        "office/home.html",
        today=today,
        queue=queue,
        reviews={
            row.report.id: (
                AcceptForm(formdata=None, version=row.task.version),
                ReturnForm(formdata=None, version=row.task.version),
            )
            for row in queue
            if can_review(user, Action.ACCEPT, row.report)
        },
        extensions=extensions,
        decisions={
            row.request.id: (
                refused_grants.get(row.request.id)
                or GrantForm(formdata=None, new_date=row.request.proposed_date),
                RefuseForm(formdata=None),
            )
            for row in extensions
        },
        waiting=waiting,
        missing=board.missing_reports(context.session, scope, today),
        undelivered=notices.undelivered_count(context.session, user),
        trigger=trigger,
    ), status


def _choices(waiting: list[board.WaitingTask]) -> list[tuple[int, str]]:
    return [(w.task.id, f"{w.plan_code} · {w.task.ref}. {w.task.name}") for w in waiting]


def _refused(form: FlaskForm | None = None, message: str | None = None, status: int = 400):
    """Undo whatever the request began, say why, and show the screen again."""
    undo()
    if message:
        flash(message, "error")
    for name, field_errors in form.errors.items() if form is not None else ():
        label = form[name].label.text if name in form else ""
        for error in field_errors:
            flash(f"{label}: {error}" if label else str(error), "error")
    grants = {}
    if isinstance(form, GrantForm) and request.view_args:
        grants[request.view_args["request_id"]] = form  # shows the date as typed
    return _page(
        status, trigger=form if isinstance(form, TriggerForm) else None, refused_grants=grants
    )


def _back(message: str):
    flash(message, "info")
    return redirect(url_for("office.home"))


@bp.route("")
@login_required
def home():
    board.require_office(me())
    return _page()


@bp.route("/mail")
@login_required
def mail():
    """E-mails not yet sent: still retrying after a failed attempt, or given up on."""
    found = notices.undelivered_mail(ctx().session, me(), page_arg(), per_page())
    return render_template("office/mail.html", messages=found)


@bp.route("/reports/<int:report_id>/accept", methods=["POST"])
@login_required
def accept(report_id: int):
    board.require_office(me())
    form = AcceptForm()
    if not form.validate():
        return _refused(form)
    try:
        svc.accept_report(
            ctx(),
            me(),
            report_id,
            note=form.note.data or "",
            expected_version=form.version.data,
        )
    except IllegalTransition as exc:
        return _refused(message=describe(exc), status=409)
    return _back(_("The report is accepted."))


@bp.route("/reports/<int:report_id>/return", methods=["POST"])
@login_required
def return_(report_id: int):
    board.require_office(me())
    form = ReturnForm()
    if not form.validate():
        return _refused(form)
    try:
        svc.return_report(
            ctx(), me(), report_id, form.reason.data, expected_version=form.version.data
        )
    except IllegalTransition as exc:
        return _refused(message=describe(exc), status=409)
    return _back(_("The report is returned to the unit."))


@bp.route("/extensions/<int:request_id>/grant", methods=["POST"])
@login_required
def grant(request_id: int):
    board.require_office(me())
    form = GrantForm()
    if not form.validate():
        return _refused(form)
    try:
        svc.decide_extension(ctx(), me(), request_id, grant=True, new_date=form.new_date.data)
    except InvalidInput as exc:
        return _refused(form, message=describe(exc))
    except IllegalTransition as exc:
        return _refused(form, message=describe(exc), status=409)
    return _back(_("The extension is granted."))


@bp.route("/extensions/<int:request_id>/refuse", methods=["POST"])
@login_required
def refuse(request_id: int):
    board.require_office(me())
    form = RefuseForm()
    if not form.validate():
        return _refused(form)
    try:
        svc.decide_extension(ctx(), me(), request_id, grant=False, note=form.reason.data)
    except IllegalTransition as exc:
        return _refused(message=describe(exc), status=409)
    return _back(_("The extension is refused."))


@bp.route("/triggers", methods=["POST"])
@login_required
def trigger():
    board.require_office(me())
    context = ctx()
    scope = board.organisation_unit_ids(context.session, me())
    form = TriggerForm()
    waiting = board.waiting_tasks(context.session, scope, context.today())
    form.tasks.choices = _choices(waiting)
    if not form.validate():
        return _refused(form)
    try:
        svc.record_trigger(
            context,
            me(),
            number=form.number.data,
            issued_on=form.issued_on.data,
            issuer=form.issuer.data,
            title=form.title.data or "",
            task_ids=form.tasks.data,
        )
    except InvalidInput as exc:
        return _refused(form, message=describe(exc))
    except IllegalTransition as exc:
        return _refused(form, message=describe(exc), status=409)
    return _back(
        _("The document is recorded: %(count)d task(s) released.", count=len(form.tasks.data))
    )
