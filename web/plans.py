"""Plans: the organisation's list (paged), a plan laid out like its appendix (its rows filtered
by words of the task name with ``q``), and the Office's consolidated report on it for a
reporting period, downloaded as a Word report or its Excel annex. The Office finds on both
pages the form to import a plan from a document (web/imports.py)."""

from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from web.auth import me
from web.paging import page_arg, per_page
from web.tasks import STATE_BADGES, STATE_LABELS, TIMING_LABELS
from web.work import ctx
from workflow.consolidated import build_report, report_periods
from workflow.permissions import Action, can
from workflow.plan_view import plan_appendix, plans_for
from workflow.plans import find_plan
from workflow.report_files import report_file
from workflow.tasks import start_plan

bp = Blueprint("plans", __name__, url_prefix="/plans")


class UpdateForm(FlaskForm):
    """A document that updates the plan whose page shows the form."""

    document = FileField(_l("Document"), validators=[FileRequired(_l("Choose a file."))])
    create_units = BooleanField(_l("Create units that nobody knows"))


class ImportForm(UpdateForm):
    """A document holding a whole plan, from the plans list."""


@bp.route("")
@login_required
def home():
    return list_page()


def list_page(form: ImportForm | None = None, status: int = 200):
    """The plans list; with ``form``, the import form as it was refused."""
    return render_template(
        "plans/list.html",
        plans=plans_for(ctx().session, me(), page_arg(), per_page()),
        import_form=_offered(form, ImportForm),
    ), status


@bp.route("/<code>")
@login_required
def show(code: str):
    return plan_page(code)


def plan_page(code: str, form: UpdateForm | None = None, status: int = 200):
    """A plan's page; with ``form``, the update form as it was refused."""
    words = request.args.get("q", "").strip()
    page = plan_appendix(ctx().session, me(), code, ctx().today(), words)
    return render_template(
        "plans/show.html",
        page=page,
        words=words,
        states=STATE_LABELS,
        badges=STATE_BADGES,
        timing_kinds=TIMING_LABELS,
        update_form=_offered(form, UpdateForm),
        report_periods=report_periods(ctx(), me(), page.plan.code),
        today=ctx().today(),
        start_offered=bool(page.drafts)
        and page.plan.status != "superseded"
        and can(me(), Action.START),
    ), status


def _offered(form: FlaskForm | None, kind: type[FlaskForm]) -> FlaskForm | None:
    """The import form, for those who may import."""
    if not can(me(), Action.IMPORT):
        return None
    return form if form is not None else kind(formdata=None)


@bp.route("/<code>/start", methods=["POST"])
@login_required
def start(code: str):
    """The Office starts every task of the plan not started yet (after an import)."""
    started = start_plan(ctx(), me(), find_plan(ctx(), code).id)
    waiting = sum(task.status == "waiting" for task in started)
    flash(
        _(
            "%(count)s tasks started, %(waiting)s of them waiting for their guidance.",
            count=len(started),
            waiting=waiting,
        ),
        "info",
    )
    return redirect(url_for("plans.show", code=code))


@bp.route("/<code>/report")
@login_required
def report(code: str):
    """The consolidated report on the plan for ``period``, as a file to save (``format``:
    docx or xlsx)."""
    made = report_file(
        build_report(ctx(), me(), code, request.args.get("period", "")),
        request.args.get("format", "docx"),
    )
    return send_file(
        io.BytesIO(made.content),
        mimetype=made.media_type,
        as_attachment=True,
        download_name=made.name,
    )
