"""Accounts: passwords (argon2), signing in with a lock-out after repeated failures, and the
session token that identifies a signed-in session.

The session token is what the web app stores in its cookie (flask-login's "alternative id"):
changing a password replaces it, so every other session of that account is signed out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workflow.context import Context
from workflow.errors import InvalidInput
from workflow.messages import N_
from workflow.models import User
from workflow.organisation import USERNAME
from workflow.permissions import Action, require

MAX_FAILED_LOGINS = 5
LOCK_OUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
WRONG = "wrong_credentials"  # failure codes: the caller words them in its own language
LOCKED = "locked_out"
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt. A failure is returned, not raised, so that the failed
    attempt is counted in the same committed unit of work."""

    user: User | None
    failure: str | None = None


def _check_password_rules(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(N_("password: at least %(count)s characters"), count=MIN_PASSWORD_LENGTH)
    if user.username.lower() in password.lower():
        raise InvalidInput(N_("password: must not contain the username"))


def set_password(ctx: Context, user: User, password: str) -> None:
    """Store a new password hash and sign out every session of the account."""
    _check_password_rules(user, password)
    user.password_hash = _HASHER.hash(password)
    user.session_token = secrets.token_urlsafe(32)
    user.failed_logins, user.locked_until = 0, None


def reset_password(ctx: Context, actor: User, user: User, password: str) -> None:
    """The Office or an administrator gives an account a new password."""
    require(actor, Action.MANAGE_USERS)
    set_password(ctx, user, password)


def change_password(ctx: Context, user: User, current: str, new: str) -> None:
    """A signed-in user changes their own password, proving the current one."""
    if not _verifies(user, current):
        raise InvalidInput(N_("current password: not correct"))
    if new == current:
        raise InvalidInput(N_("new password: must differ from the current one"))
    set_password(ctx, user, new)


def _verifies(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(ctx: Context, username: str, password: str) -> SignIn:
    """The account for these credentials, or why not.

    After :data:`MAX_FAILED_LOGINS` failures in a row the account is locked for
    :data:`LOCK_OUT`, even for the right password, so guessing gets nowhere. The message never
    says whether the username exists.
    """
    user = ctx.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    now = ctx.now()
    if user is None or not user.active:
        _HASHER.hash(password)  # take as long as a real check: no timing hint that it exists
        return SignIn(None, WRONG)
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(None, LOCKED)
    if not _verifies(user, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins, user.locked_until = 0, now + LOCK_OUT
        return SignIn(None, WRONG)
    user.failed_logins, user.locked_until = 0, None
    if user.session_token is None:
        user.session_token = secrets.token_urlsafe(32)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return SignIn(user)


def by_session_token(ctx: Context, token: str) -> User | None:
    if not token:
        return None
    user = ctx.session.scalar(sa.select(User).where(User.session_token == token))
    return user if user is not None and user.active else None


def valid_username(username: str) -> bool:
    return USERNAME.fullmatch(username) is not None
