"""Units, aliases and accounts of the organisation, managed by the Office and administrators.

Thin views over :mod:`workflow.administration`, which checks who may do what and validates
every input; a refusal re-displays the form with its message (400), never a half-done change.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from web.auth import me
from web.errors import describe
from web.work import ctx, undo
from workflow import administration as svc
from workflow.accounts import MIN_PASSWORD_LENGTH
from workflow.errors import InvalidInput

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    "unit_head": _l("Unit head"),
    "unit_delegate": _l("Unit delegate"),
    "office": _l("Office"),
    "leadership": _l("Leadership"),
    "admin": _l("Administrator"),
}
KIND_LABELS = {
    "province": _l("Province"),
    "ward": _l("Ward"),
    "commune": _l("Commune"),
    "office": _l("Office"),
    "department": _l("Department"),
    "division": _l("Division"),
    "center": _l("Centre"),
    "agency": _l("Agency"),
    "press": _l("Press"),
    "group": _l("Group"),
    "other": _l("Other"),
}
# the field a service message names ("username: …") → the form field that shows it
MESSAGE_FIELDS = {"display name": "full_name"}


def _optional_int(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)  # a value outside the choices is refused by the select field


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    parent = SelectField(_l("Parent unit"), coerce=_optional_int)
    kind = SelectField(_l("Kind"), default="division")


class RenameForm(FlaskForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=255)])


class AliasForm(FlaskForm):
    alias = StringField(_l("Alias"), validators=[DataRequired(), Length(max=255)])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=255)])
    role = SelectField(_l("Role"))
    unit = SelectField(_l("Unit"), coerce=_optional_int)
    email = EmailField(_l("E-mail (optional)"), validators=[Optional(), Length(max=255)])
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


def _unit_choices(rows: list[svc.UnitRow], empty: str | None) -> list[tuple[int | None, str]]:
    choices = [(None, empty)] if empty is not None else []
    return choices + [
        (r.unit.id, "\u00a0\u00a0" * r.depth + f"{r.unit.name} ({r.unit.code})") for r in rows
    ]


def _show(form: FlaskForm, refusal: InvalidInput) -> None:
    """Put a service's refusal, in the reader's language, next to the field it names (its
    English text's first word) or at the top of the page."""
    name = str(refusal).split(":", 1)[0].strip()
    message = describe(refusal)
    field = getattr(form, MESSAGE_FIELDS.get(name, name), None)
    if field is not None and hasattr(field, "errors") and name != "csrf_token":
        field.errors = [*field.errors, message]
    else:
        flash(message, "error")


def _refused(page, failed: FlaskForm, refusal: InvalidInput | None = None, **kwargs):
    """Undo what the request began and show ``page`` again, ``failed`` saying why."""
    undo()
    if refusal is not None:
        _show(failed, refusal)
    return page(status=400, **kwargs)


# --- units -------------------------------------------------------------------------------------


def _units_page(status: int = 200, form: UnitForm | None = None):
    rows = svc.unit_tree(ctx(), me())
    if form is None:
        form = UnitForm(formdata=None)
    _unit_form_choices(form, rows)
    return render_template("admin/units.html", rows=rows, form=form, kinds=KIND_LABELS), status


def _unit_form_choices(form: UnitForm, rows: list[svc.UnitRow]) -> None:
    form.kind.choices = list(KIND_LABELS.items())
    top_level = svc.scope_of(me()).root is None
    form.parent.choices = _unit_choices(
        rows, _("— none: a new organisation —") if top_level else None
    )


@bp.route("/units")
@login_required
def units():
    return _units_page()


@bp.route("/units", methods=["POST"])
@login_required
def create_unit():
    form = UnitForm()
    _unit_form_choices(form, svc.unit_tree(ctx(), me()))
    if not form.validate():
        return _refused(_units_page, form, form=form)
    try:
        unit = svc.create_unit(
            ctx(),
            me(),
            code=form.code.data,
            name=form.name.data,
            parent_id=form.parent.data,
            kind=form.kind.data,
        )
    except InvalidInput as exc:
        return _refused(_units_page, form, exc, form=form)
    flash(_("The unit %(code)s is created.", code=unit.code), "info")
    return redirect(url_for("admin.unit", unit_id=unit.id))


def _unit_page(
    unit_id: int,
    status: int = 200,
    rename: RenameForm | None = None,
    alias: AliasForm | None = None,
):
    context = ctx()
    unit = svc.get_unit(context, me(), unit_id)
    if rename is None:
        rename = RenameForm(formdata=None, data={"name": unit.name})
    return render_template(
        "admin/unit.html",
        unit=unit,
        aliases=svc.unit_aliases(context, unit),
        tasks_led=svc.tasks_led(context, unit),
        may_change_aliases=svc.may_change_aliases(me(), unit),
        rename=rename,
        alias=alias or AliasForm(formdata=None),
        kinds=KIND_LABELS,
    ), status


@bp.route("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    return _unit_page(unit_id)


@bp.route("/units/<int:unit_id>/rename", methods=["POST"])
@login_required
def rename_unit(unit_id: int):
    form = RenameForm()
    if not form.validate():
        return _refused(_unit_page, form, unit_id=unit_id, rename=form)
    try:
        svc.rename_unit(ctx(), me(), unit_id, form.name.data)
    except InvalidInput as exc:
        return _refused(_unit_page, form, exc, unit_id=unit_id, rename=form)
    flash(_("The unit is renamed."), "info")
    return redirect(url_for("admin.unit", unit_id=unit_id))


@bp.route("/units/<int:unit_id>/aliases", methods=["POST"])
@login_required
def add_alias(unit_id: int):
    form = AliasForm()
    if not form.validate():
        return _refused(_unit_page, form, unit_id=unit_id, alias=form)
    try:
        row = svc.add_alias(ctx(), me(), unit_id, form.alias.data)
    except InvalidInput as exc:
        return _refused(_unit_page, form, exc, unit_id=unit_id, alias=form)
    flash(_("The alias “%(alias)s” is added.", alias=row.alias), "info")
    return redirect(url_for("admin.unit", unit_id=unit_id))


@bp.route("/units/<int:unit_id>/aliases/<int:alias_id>/remove", methods=["POST"])
@login_required
def remove_alias(unit_id: int, alias_id: int):
    removed = svc.remove_alias(ctx(), me(), unit_id, alias_id)
    flash(_("The alias “%(alias)s” is removed.", alias=removed), "info")
    return redirect(url_for("admin.unit", unit_id=unit_id))


@bp.route("/units/<int:unit_id>/delete", methods=["POST"])
@login_required
def delete_unit(unit_id: int):
    try:
        code = svc.delete_unit(ctx(), me(), unit_id)
    except InvalidInput as exc:
        undo()
        flash(describe(exc), "error")
        return _unit_page(unit_id, status=400)
    flash(_("The unit %(code)s is deleted.", code=code), "info")
    return redirect(url_for("admin.units"))


# --- accounts ----------------------------------------------------------------------------------


def _user_form_choices(form: UserForm) -> None:
    actor = me()
    form.role.choices = [(r, ROLE_LABELS[r]) for r in svc.assignable_roles(actor)]
    rows = svc.unit_tree(ctx(), actor)
    form.unit.choices = _unit_choices(rows, _("— none —"))


def _users_page(status: int = 200, form: UserForm | None = None):
    rows = svc.user_list(ctx(), me())
    if form is None:
        form = UserForm(formdata=None, data={"role": "unit_head"})
    _user_form_choices(form)
    return render_template("admin/users.html", rows=rows, form=form, roles=ROLE_LABELS), status


@bp.route("/users")
@login_required
def users():
    return _users_page()


@bp.route("/users", methods=["POST"])
@login_required
def create_user():
    form = UserForm()
    _user_form_choices(form)
    if not form.validate():
        return _refused(_users_page, form, form=form)
    try:
        account = svc.create_user(
            ctx(),
            me(),
            username=form.username.data,
            full_name=form.full_name.data,
            role=form.role.data,
            unit_id=form.unit.data,
            email=form.email.data,
            password=form.password.data,
        )
    except InvalidInput as exc:
        return _refused(_users_page, form, exc, form=form)
    flash(_("The account %(username)s is created.", username=account.username), "info")
    return redirect(url_for("admin.users"))


def _user_page(user_id: int, status: int = 200, reset: ResetPasswordForm | None = None):
    account = svc.get_user(ctx(), me(), user_id)
    now = ctx().now()
    return render_template(
        "admin/user.html",
        account=account,
        locked=account.locked_until is not None and account.locked_until > now,
        is_me=account.id == me().id,
        reset=reset or ResetPasswordForm(formdata=None),
        roles=ROLE_LABELS,
    ), status


@bp.route("/users/<int:user_id>")
@login_required
def user(user_id: int):
    return _user_page(user_id)


def _set_active(user_id: int, active: bool, done: str):
    try:
        svc.set_active(ctx(), me(), user_id, active)
    except InvalidInput as exc:
        undo()
        flash(describe(exc), "error")
        return _user_page(user_id, status=400)
    flash(done, "info")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate(user_id: int):
    return _set_active(user_id, False, _("The account is deactivated: its sessions are ended."))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate(user_id: int):
    return _set_active(user_id, True, _("The account is active again."))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@login_required
def reset_password(user_id: int):
    form = ResetPasswordForm()
    if not form.validate():
        return _refused(_user_page, form, user_id=user_id, reset=form)
    try:
        svc.reset_password(ctx(), me(), user_id, form.password.data)
    except InvalidInput as exc:
        return _refused(_user_page, form, exc, user_id=user_id, reset=form)
    flash(_("The password is reset: the account's sessions are ended."), "info")
    return redirect(url_for("admin.user", user_id=user_id))
