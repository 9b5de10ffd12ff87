"""Plans: the organisation's list (paged), and a plan laid out like its appendix (its rows
filtered by words of the task name with ``q``). The Office finds on both the form to import a
plan from a document (web/imports.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from web.auth import me
from web.paging import page_arg, per_page
from web.tasks import STATE_BADGES, STATE_LABELS, TIMING_LABELS
from web.work import ctx
from workflow.permissions import Action, can
from workflow.plan_view import plan_appendix, plans_for

bp = Blueprint("plans", __name__, url_prefix="/plans")


class UpdateForm(FlaskForm):
    """A document that updates the plan whose page shows the form."""

    document = FileField(_l("Document"), validators=[FileRequired(_l("Choose a file."))])


class ImportForm(UpdateForm):
    """A document holding a whole plan, from the plans list."""

    create_units = BooleanField(_l("Create units that nobody knows"))


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
    return render_template(
        "plans/show.html",
        page=plan_appendix(ctx().session, me(), code, words),
        words=words,
        states=STATE_LABELS,
        badges=STATE_BADGES,
        timing_kinds=TIMING_LABELS,
        update_form=_offered(form, UpdateForm),
    ), status


def _offered(form: FlaskForm | None, kind: type[FlaskForm]) -> FlaskForm | None:
    """The import form, for those who may import."""
    if not can(me(), Action.IMPORT):
        return None
    return form if form is not None else kind(formdata=None)
