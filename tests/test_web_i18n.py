"""The engine's refusals and period labels in the reader's language.

The Vietnamese of the messages added with them is in tools/vi_additions.po until it is merged
into the catalog: the app here runs on the catalog plus those additions, compiled for the test.
"""

from __future__ import annotations

import html
import io
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from tests.conftest import post_form, sign_in, task_by_ref
from tests.test_web_unit import ROWS, snapshot
from workflow.models import DueItem, User
from workflow.regime import describe_period, vietnamese_period

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"
ADDITIONS = ROOT / "tools" / "vi_additions.po"


@pytest.fixture(scope="session")
def translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogs, with the Vietnamese additions not merged yet, compiled."""
    root = tmp_path_factory.mktemp("translations")
    shutil.copytree(TRANSLATIONS / "en", root / "en")
    with open(TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale="vi")
    if ADDITIONS.exists():
        with open(ADDITIONS, "rb") as handle:
            for message in read_po(handle, locale="vi"):
                if message.id and not catalog.get(message.id):
                    catalog[message.id] = message
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    (root / "vi" / "LC_MESSAGES").mkdir(parents=True)
    (root / "vi" / "LC_MESSAGES" / "messages.mo").write_bytes(out.getvalue())
    return root


@pytest.fixture
def web(organisation, password_hash, translations):
    """The app on these catalogs. Flask-Babel caches translations per process by language
    alone, so the cache is emptied before (another app's catalog) and after (this one's)."""
    from web import babel, create_app

    babel.domain_instance.cache.clear()
    with organisation.context() as ctx:
        for account in ctx.session.scalars(sa.select(User)):
            account.password_hash = password_hash
            account.session_token = uuid.uuid4().hex
    yield create_app(
        {"TESTING": True, "BABEL_TRANSLATION_DIRECTORIES": str(translations)}, engine=organisation
    )
    babel.domain_instance.cache.clear()


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
        tid = task_by_ref(ctx, "test-plan", "1").id
    client = _client(web, "vi")
    sign_in(client, "vps.head")
    path = f"/tasks/{tid}"
    data = {"period": "deadline:deadline", "reason": "X", "proposed_date": "31/02/2027"}
    response = post_form(client, f"{path}/extension", {**data, "version": 1}, form_page=path)
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
def test_the_catalogs_period_labels_are_the_clis(translations, key):
    """The Vietnamese catalog words every period kind as the CLI (vietnamese_period) does."""
    with open(translations / "vi" / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        vi = Translations(handle)
    assert describe_period(key).render(vi.gettext) == vietnamese_period(key)
