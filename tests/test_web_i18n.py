"""The engine's refusals and period labels in the reader's language."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.support import Translations

from tests.conftest import post_form, sign_in, task_by_ref
from tests.test_web_unit import ROWS, snapshot
from workflow.models import DueItem
from workflow.regime import describe_period, vietnamese_period

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"


@pytest.fixture
def web(app):
    return app


def _client(web, lang: str):
    client = web.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


REFUSAL = {
    "en": "proposed date: 31/01/2027 is not after the due date {due}",
    "vi": "Hạn đề nghị: ngày 31/01/2027 không sau hạn hiện tại {due}",
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_refusal_from_the_engine_is_shown_in_the_readers_language(web, make_plan, engine, lang):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        tid, deadline = task.id, next(i for i in task.due_items if i.kind == "deadline").due_date
    client = _client(web, lang)
    sign_in(client, "vps.head")
    path = f"/tasks/{tid}"
    before = snapshot(engine, tid)
    data = {
        "period": "deadline:deadline",
        "reason": "Chờ ý kiến",
        "proposed_date": "31/01/2027",
        "version": before[0],
    }
    response = post_form(client, f"{path}/extension", data, form_page=path)
    assert response.status_code == 400
    page = _text(response)
    assert REFUSAL[lang].format(due=f"{deadline:%d/%m/%Y}") in page
    assert REFUSAL["en" if lang == "vi" else "vi"].split(":")[0] not in page
    assert 'value="31/01/2027"' in page  # the form shows what was typed
    assert snapshot(engine, tid) == before


FORBIDDEN = {
    "en": "qltdc.head (unit_head) may not view on task {tid} (1/KH-SKHCN 1)",
    "vi": "qltdc.head (lãnh đạo đơn vị) không có quyền xem đối với nhiệm vụ {tid} (1/KH-SKHCN, mục 1)",
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_permission_refusal_names_role_and_action_in_the_readers_language(
    web, make_plan, engine, lang
):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        tid = task_by_ref(ctx, "test-plan", "1").id
    client = _client(web, lang)
    sign_in(client, "qltdc.head")
    response = client.get(f"/tasks/{tid}")
    assert response.status_code == 403
    assert FORBIDDEN[lang].format(tid=tid) in _text(response)


def test_a_bad_date_is_refused_naming_the_field_in_vietnamese(web, make_plan, engine):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        tid, version = task.id, task.version  # the form as the page shows it: not stale
    client = _client(web, "vi")
    sign_in(client, "vps.head")
    path = f"/tasks/{tid}"
    data = {"period": "deadline:deadline", "reason": "X", "proposed_date": "31/02/2027"}
    response = post_form(client, f"{path}/extension", {**data, "version": version}, form_page=path)
    assert response.status_code == 400
    page = _text(response)
    assert "Hạn đề nghị: “31/02/2027” không phải là ngày hợp lệ" in page
    assert 'value="31/02/2027"' in page


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_period_labels_on_the_task_page(web, make_plan, engine, lang):
    make_plan(ROWS)
    with engine.context(write=False) as ctx:
        tid = task_by_ref(ctx, "test-plan", "1").id
        keys = set(
            ctx.session.scalars(
                sa.select(DueItem.period_key).where(
                    DueItem.task_id == tid, DueItem.kind == "report"
                )
            )
        )
    client = _client(web, lang)
    sign_in(client, "vps.head")
    page = _text(client.get(f"/tasks/{tid}"))
    for key in keys:
        label = vietnamese_period(key) if lang == "vi" else str(describe_period(key))
        assert f">{label}<" in page, key


@pytest.mark.parametrize(
    "key", ["2026-01", "2026-11", "2026-Q1", "2026-Q4", "2026-H1", "2026-H2", "2026"]
)
def test_the_catalogs_period_labels_are_the_clis(key):
    """The Vietnamese catalog words every period kind as the CLI (vietnamese_period) does."""
    with open(TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        vi = Translations(handle)
    assert describe_period(key).render(vi.gettext) == vietnamese_period(key)
