"""Importing a plan from a document: upload, preview, then commit all or nothing, or cancel.

The upload is stored by the engine (workflow/uploads.py) under a token only its uploader can
use; the preview shows every row as it will be stored and every problem; committing reads and
validates the stored file again and imports it whole.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm

from web.auth import me
from web.errors import describe
from web.plans import ImportForm, UpdateForm, list_page, plan_page
from web.tasks import FREQUENCY_LABELS, TIMING_LABELS
from web.work import ctx, undo
from workflow import uploads
from workflow.errors import ImportFailed, InvalidInput
from workflow.importer import ImportPreview
from workflow.models import ImportUpload

bp = Blueprint("imports", __name__, url_prefix="/plans")

ACTION_LABELS = {"new": _l("New"), "changed": _l("Changed"), "unchanged": _l("Unchanged")}
ACTION_BADGES = {"new": "ok", "changed": "soon", "unchanged": "muted"}
FIELD_LABELS = {
    "number": _l("number"),
    "name": _l("name"),
    "outputs": _l("outputs"),
    "lead_units_text": _l("lead units as written"),
    "cooperating_units_text": _l("cooperating units as written"),
    "timing_raw": _l("timing"),
    "units": _l("units"),
    "position": _l("place in the plan"),
    "code": _l("code"),
    "measure": _l("measure"),
    "target_text": _l("target"),
    "comparator": _l("comparator"),
    "target_value": _l("target value"),
    "horizon_year": _l("year"),
    "central_agency": _l("central agency"),
    "title": _l("title"),
    "issuer": _l("issuer"),
    "issuer_text": _l("issuer as written"),
    "issued_on": _l("date"),
    "issued_text": _l("date as written"),
    "implements": _l("implements"),
    "reporting_regime": _l("reporting regime"),
    "reporting_regime_text": _l("reporting regime as written"),
    "source": _l("source"),
}


@bp.route("/imports", methods=["POST"])
@login_required
def upload():
    """A document holding a whole plan (or updating the plan it names)."""
    form = ImportForm()
    if not form.validate():
        return list_page(form, 400)
    try:
        stored = _store(form, create_units=form.create_units.data)
    except InvalidInput as exc:
        return _refused(list_page, form, exc)
    return redirect(url_for("imports.preview", token=stored.token))


@bp.route("/<code>/imports", methods=["POST"])
@login_required
def update(code: str):
    """A document, or a bare appendix table, imported into this plan."""
    form = UpdateForm()
    if not form.validate():
        return plan_page(code, form, 400)
    try:
        stored = _store(form, plan_code=code, create_units=form.create_units.data)
    except InvalidInput as exc:
        return _refused(lambda f, s: plan_page(code, f, s), form, exc)
    return redirect(url_for("imports.preview", token=stored.token))


def _store(form: UpdateForm, **options: str | bool) -> ImportUpload:
    document = form.document.data
    return uploads.store_upload(ctx(), me(), document.filename or "", document.read(), **options)


def _refused(
    page: Callable[[UpdateForm, int], ResponseReturnValue], form: UpdateForm, refusal: InvalidInput
) -> ResponseReturnValue:
    """Nothing stored; the page again with the reason next to the file field."""
    undo()
    form.document.errors = [*form.document.errors, describe(refusal)]
    return page(form, 400)


@bp.route("/imports/<token>")
@login_required
def preview(token: str):
    upload, shown = uploads.preview_upload(ctx(), me(), token)
    return _preview_page(upload, shown)


@bp.route("/imports/<token>/commit", methods=["POST"])
@login_required
def commit(token: str):
    try:
        result = uploads.commit_upload(ctx(), me(), token)
    except ImportFailed:
        undo()  # the database changed since the preview: show why, write nothing
        upload, shown = uploads.preview_upload(ctx(), me(), token)
        return _preview_page(upload, shown, 400)
    flash(
        _(
            "Plan %(number)s imported: %(created)d tasks created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(indicators)d indicators.",
            number=result.plan.number,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            indicators=result.indicators,
        ),
        "info",
    )
    for line in result.superseded:
        flash(line, "info")
    return redirect(url_for("plans.show", code=result.plan.code))


@bp.route("/imports/<token>/cancel", methods=["POST"])
@login_required
def cancel(token: str):
    plan_code = uploads.cancel_upload(ctx(), me(), token)
    flash(_("The upload is cancelled; nothing was imported."), "info")
    if plan_code:
        return redirect(url_for("plans.show", code=plan_code))
    return redirect(url_for("plans.home"))


def _preview_page(upload: ImportUpload, shown: ImportPreview, status: int = 200):
    return render_template(
        "plans/import.html",
        upload=upload,
        preview=shown,
        form=FlaskForm(),
        timing_kinds=TIMING_LABELS,
        frequencies=FREQUENCY_LABELS,
        actions=ACTION_LABELS,
        action_badges=ACTION_BADGES,
        fields=FIELD_LABELS,
    ), status
