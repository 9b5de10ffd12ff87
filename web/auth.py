"""Signing in and out, and changing one's password (flask-login on the engine's accounts)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from web.errors import describe
from web.work import ctx, undo
from workflow import accounts
from workflow.errors import InvalidInput
from workflow.models import User

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to continue.")
login_manager.session_protection = "strong"


class Account(UserMixin):
    """The signed-in person, for flask-login; ``user`` is the engine's User row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return self.user.session_token or ""

    @property
    def is_active(self) -> bool:
        return self.user.active


@login_manager.user_loader
def _load(token: str) -> Account | None:
    user = accounts.by_session_token(ctx(), token)
    return Account(user) if user else None


def me() -> User:
    """The signed-in user's row, in this request's unit of work."""
    return current_user.user


SIGN_IN_FAILURES = {
    accounts.WRONG: _l("Wrong username or password."),
    accounts.LOCKED: _l("Too many failed attempts: try again in a few minutes."),
}


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never redirect a signed-in user elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    if form.validate_on_submit():
        result = accounts.sign_in(ctx(), form.username.data, form.password.data)
        if result.user is not None:
            session.clear()
            login_user(Account(result.user), remember=form.remember.data)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        flash(SIGN_IN_FAILURES[result.failure], "error")  # counted, and committed
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(ctx(), me(), form.current.data, form.new.data)
        except InvalidInput as exc:
            undo()
            form.new.errors.append(describe(exc))
        else:
            login_user(Account(me()))  # this session carries the new token; the others end
            flash(_("Your password is changed. Other sessions are signed out."), "info")
            return redirect(url_for("pages.home"))
    return render_template("auth/password.html", form=form), 200 if not form.errors else 400


@bp.route("/lang/<code>", methods=["POST"])
def language(code: str):
    from web import LANGUAGES

    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
