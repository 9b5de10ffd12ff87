"""Accounts in the engine: password rules, sign-in with lock-out, session tokens."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import user
from workflow import accounts
from workflow.errors import InvalidInput, PermissionDenied


def test_a_password_is_checked_and_stored_as_an_argon2_hash(organisation):
    with organisation.context() as ctx:
        head = user(ctx, "vps.head")
        for weak, why in (("ngan", "at least 10"), ("vps.head-2026-mat-khau", "username")):
            with pytest.raises(InvalidInput, match=why):
                accounts.set_password(ctx, head, weak)
        accounts.set_password(ctx, head, "mot-cau-mat-khau-dai")
        assert head.password_hash.startswith("$argon2id$")
        assert accounts.sign_in(ctx, "vps.head", "mot-cau-mat-khau-dai").user is head
        assert accounts.sign_in(ctx, "VPS.HEAD ", "mot-cau-mat-khau-dai").user is head


def test_failed_sign_ins_are_counted_across_requests_and_lock_the_account(organisation, clock):
    with organisation.context() as ctx:
        accounts.set_password(ctx, user(ctx, "vps.head"), "mot-cau-mat-khau-dai")
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with organisation.context() as ctx:  # each attempt its own unit of work, committed
            assert accounts.sign_in(ctx, "vps.head", "doan-sai").failure == accounts.WRONG
    with organisation.context() as ctx:
        assert accounts.sign_in(ctx, "vps.head", "mot-cau-mat-khau-dai").failure == accounts.LOCKED
    clock.instant += accounts.LOCK_OUT + timedelta(seconds=1)
    with organisation.context() as ctx:
        assert accounts.sign_in(ctx, "vps.head", "mot-cau-mat-khau-dai").user is not None


def test_an_unknown_or_deactivated_account_fails_like_a_wrong_password(organisation):
    with organisation.context() as ctx:
        head = user(ctx, "vps.head")
        accounts.set_password(ctx, head, "mot-cau-mat-khau-dai")
        head.active = False
        assert accounts.sign_in(ctx, "vps.head", "mot-cau-mat-khau-dai").failure == accounts.WRONG
        assert accounts.sign_in(ctx, "khong.ton.tai", "bat-ky").failure == accounts.WRONG
        assert accounts.by_session_token(ctx, head.session_token) is None


def test_a_new_password_replaces_the_session_token(organisation):
    with organisation.context() as ctx:
        head = user(ctx, "vps.head")
        accounts.set_password(ctx, head, "mot-cau-mat-khau-dai")
        old = head.session_token
        accounts.change_password(ctx, head, "mot-cau-mat-khau-dai", "cau-mat-khau-khac-han")
        assert head.session_token != old
        assert accounts.by_session_token(ctx, old) is None
        with pytest.raises(InvalidInput, match="current password"):
            accounts.change_password(ctx, head, "khong-dung", "cau-mat-khau-thu-ba")


def test_only_those_who_manage_users_reset_a_password(organisation):
    with organisation.context() as ctx:
        with pytest.raises(PermissionDenied):
            accounts.reset_password(ctx, user(ctx, "vps.head"), user(ctx, "qlkhcn.head"), "x" * 12)
        accounts.reset_password(ctx, user(ctx, "vps.office"), user(ctx, "qlkhcn.head"), "x" * 12)


def test_the_operator_sets_a_password_from_the_command_line(tmp_path):
    from tests.test_cli import nhiemvu

    assert nhiemvu(tmp_path, "--today", str(date(2026, 11, 22)), "demo").returncode == 0
    done = nhiemvu(tmp_path, "password", "set", "vps.head", "--password", "mot-cau-mat-khau-dai")
    assert done.returncode == 0, done.stderr
    weak = nhiemvu(tmp_path, "password", "set", "vps.head", "--password", "ngan")
    assert weak.returncode == 1 and weak.stderr.startswith("error: password")
