"""Directions, requests to explain a delay and their answers, comments: engine and screens."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import post_form, sign_in, task_by_ref, user
from workflow import directions as svc
from workflow.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from workflow.models import ExplanationRequest, Task, TaskEvent

ROWS = [
    ["1", "Xây dựng quy chế phối hợp", "Văn phòng Sở", "Phòng Quản lý KH&CN", "6/2026"],
    ["2", "Rà soát thủ tục hành chính", "Phòng Quản lý KH&CN", "", "6/2027"],
]


@pytest.fixture
def plan(make_plan):
    return make_plan(ROWS)


def _state(engine, ref: str = "1") -> tuple:
    """What any of these services could change: the task, its history, its requests."""
    with engine.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", ref)
        events = ctx.session.scalars(
            sa.select(TaskEvent.action).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
        ).all()
        requests = ctx.session.execute(
            sa.select(ExplanationRequest.id, ExplanationRequest.status, ExplanationRequest.answer)
            .where(ExplanationRequest.task_id == task.id)
            .order_by(ExplanationRequest.id)
        ).all()
        return task.version, task.status, list(events), [tuple(r) for r in requests]


def _act(engine, username: str, ref: str, act):
    with engine.context() as ctx:
        return act(ctx, user(ctx, username), task_by_ref(ctx, "test-plan", ref))


# --- engine ----------------------------------------------------------------------------------


def test_a_direction_is_history_shown_to_units_without_making_forms_stale(organisation, plan):
    before = _state(organisation)
    _act(
        organisation,
        "skhcn.director",
        "1",
        lambda c, u, t: svc.give_direction(c, u, t, "  Hoàn thành trước 15/12, báo cáo kết quả.  "),
    )
    version, status, events, _ = _state(organisation)
    assert events == [*before[2], "direction"]
    assert (version, status) == before[:2]
    with organisation.context(write=False) as ctx:
        task = task_by_ref(ctx, "test-plan", "1")
        talk = svc.discussion(ctx.session, task)
        assert [e.note for e in talk.directions] == ["Hoàn thành trước 15/12, báo cáo kết quả."]
        assert talk.directions[0].actor.username == "skhcn.director"
        vps = user(ctx, "vps.head").unit_id
        coop = user(ctx, "qlkhcn.head").unit_id
        assert [e.note for e in svc.recent_directions(ctx.session, vps, ctx.now())] == [
            "Hoàn thành trước 15/12, báo cáo kết quả."
        ]
        assert len(svc.recent_directions(ctx.session, coop, ctx.now())) == 1  # cooperates


@pytest.mark.parametrize("username", ["vps.head", "vps.office", "qlkhcn.head"])
def test_only_leadership_gives_directions(organisation, plan, username):
    before = _state(organisation)
    with pytest.raises(PermissionDenied):
        _act(organisation, username, "1", lambda c, u, t: svc.give_direction(c, u, t, "Làm ngay"))
    assert _state(organisation) == before


def test_an_empty_direction_is_refused(organisation, plan):
    before = _state(organisation)
    with pytest.raises(InvalidInput, match="direction: required"):
        _act(organisation, "skhcn.director", "1", lambda c, u, t: svc.give_direction(c, u, t, " "))
    assert _state(organisation) == before


def test_request_to_explain_is_due_in_five_working_days_and_the_lead_unit_answers(
    organisation, plan, clock
):
    clock.set(date(2026, 11, 23))  # a Monday
    request_id = _act(
        organisation,
        "skhcn.director",
        "1",
        lambda c, u, t: svc.request_explanation(c, u, t, "Vì sao chậm?").id,
    )
    with organisation.context(write=False) as ctx:
        request = ctx.session.get(ExplanationRequest, request_id)
        # Monday + 5 working days, skipping 24/11 (Vietnamese Culture Day, off from 2026) and the
        # weekend: Tuesday 1/12.
        assert request.answer_by == date(2026, 12, 1)
        owed = svc.explanations_owed(ctx.session, user(ctx, "vps.head").unit_id)
        assert [r.id for r in owed] == [request_id]
        assert svc.explanations_owed(ctx.session, user(ctx, "qlkhcn.head").unit_id) == []
    clock.set(date(2026, 12, 2))
    _act(
        organisation,
        "vps.head",
        "1",
        lambda c, u, t: svc.answer_explanation(c, u, t, request_id, "Chờ ý kiến của Sở Tư pháp."),
    )
    _, _, events, requests = _state(organisation)
    assert events[-2:] == ["explanation_requested", "explanation_given"]
    assert requests == [(request_id, "answered", "Chờ ý kiến của Sở Tư pháp.")]
    with organisation.context(write=False) as ctx:
        last = ctx.session.scalars(sa.select(TaskEvent).order_by(TaskEvent.id.desc())).first()
        assert last.changes == {"request_id": request_id, "days_late": 1}
        assert svc.explanations_owed(ctx.session, user(ctx, "vps.head").unit_id) == []


def test_one_open_request_per_task_and_no_date_in_the_past(organisation, plan, clock):
    ask = svc.request_explanation
    _act(organisation, "skhcn.director", "1", lambda c, u, t: ask(c, u, t, "Vì sao chậm?"))
    before = _state(organisation)
    with pytest.raises(InvalidInput, match="already awaited"):
        _act(organisation, "laichau.leader", "1", lambda c, u, t: ask(c, u, t, "Giải trình"))
    with pytest.raises(InvalidInput, match="answer by: 22/11/2026 is not after today"):
        _act(
            organisation,
            "skhcn.director",
            "2",
            lambda c, u, t: ask(c, u, t, "?", clock.now().date()),
        )
    assert _state(organisation) == before


@pytest.mark.parametrize(
    ("username", "error"),
    [("qlkhcn.head", PermissionDenied), ("skhcn.director", PermissionDenied)],
)
def test_only_the_lead_unit_answers(organisation, plan, username, error):
    request_id = _act(
        organisation,
        "skhcn.director",
        "1",
        lambda c, u, t: svc.request_explanation(c, u, t, "Vì sao chậm?").id,
    )
    before = _state(organisation)
    with pytest.raises(error):
        _act(
            organisation,
            username,
            "1",
            lambda c, u, t: svc.answer_explanation(c, u, t, request_id, "Vì bận"),
        )
    assert _state(organisation) == before


def test_an_answer_is_given_once_and_only_on_its_own_task(organisation, plan):
    request_id = _act(
        organisation,
        "skhcn.director",
        "1",
        lambda c, u, t: svc.request_explanation(c, u, t, "Vì sao chậm?").id,
    )
    answer = svc.answer_explanation
    with pytest.raises(NotFound):
        _act(organisation, "qlkhcn.head", "2", lambda c, u, t: answer(c, u, t, request_id, "x"))
    _act(organisation, "vps.head", "1", lambda c, u, t: answer(c, u, t, request_id, "Đã rõ"))
    before = _state(organisation)
    with pytest.raises(IllegalTransition, match="answered already"):
        _act(organisation, "vps.head", "1", lambda c, u, t: answer(c, u, t, request_id, "Lại"))
    assert _state(organisation) == before


def test_anyone_who_sees_a_task_may_comment_and_nobody_else(organisation, plan):
    _act(organisation, "qlkhcn.head", "1", lambda c, u, t: svc.add_comment(c, u, t, "Đã góp ý"))
    before = _state(organisation)
    for outsider in ("ttkd.head", "vinhtuy.office"):
        with pytest.raises(PermissionDenied):
            _act(organisation, outsider, "1", lambda c, u, t: svc.add_comment(c, u, t, "?"))
    assert _state(organisation) == before
    with organisation.context(write=False) as ctx:
        talk = svc.discussion(ctx.session, task_by_ref(ctx, "test-plan", "1"))
        assert [(e.actor.username, e.note) for e in talk.comments] == [("qlkhcn.head", "Đã góp ý")]


def test_the_board_lists_open_and_recent_requests_of_its_own_organisation(
    organisation, plan, clock
):
    from workflow.board import organisation_unit_ids

    ask = svc.request_explanation
    _act(organisation, "skhcn.director", "1", lambda c, u, t: ask(c, u, t, "Vì sao chậm?"))
    with organisation.context(write=False) as ctx:
        own = organisation_unit_ids(ctx.session, user(ctx, "skhcn.director"))
        other = organisation_unit_ids(ctx.session, user(ctx, "vinhtuy.office"))
        listed = svc.explanations_for_board(ctx.session, own, ctx.now())
        assert [(r.task.ref, r.status) for r in listed] == [("1", "open")]
        assert svc.explanations_for_board(ctx.session, other, ctx.now()) == []


# --- screens ---------------------------------------------------------------------------------


def _task_id(engine, ref: str = "1") -> int:
    with engine.context(write=False) as ctx:
        return task_by_ref(ctx, "test-plan", ref).id


def test_leadership_directs_and_asks_the_unit_answers_and_the_board_shows_it(
    organisation, plan, client
):
    tid = _task_id(organisation)
    page = f"/tasks/{tid}"
    sign_in(client, "skhcn.director")
    response = post_form(client, f"{page}/directions", {"text": "Khẩn trương hoàn thành"}, page)
    assert response.status_code == 302
    response = post_form(
        client,
        f"{page}/explanations",
        {"question": "Vì sao quá hạn?", "answer_by": "2026-12-04"},
        page,
    )
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Khẩn trương hoàn thành" in html and "Vì sao quá hạn?" in html
    assert 'id="answer-answer"' not in html  # leadership does not answer for the unit

    head = client.application.test_client()
    sign_in(head, "vps.head")
    home = head.get("/unit").get_data(as_text=True)
    assert "Vì sao quá hạn?" in home and "04/12/2026" in home
    assert "Khẩn trương hoàn thành" in home
    html = head.get(page).get_data(as_text=True)
    assert 'id="direction-text"' not in html and 'id="explanation-question"' not in html
    with organisation.context(write=False) as ctx:
        request_id = ctx.session.scalar(sa.select(ExplanationRequest.id))
    response = post_form(
        head,
        f"{page}/explanations/{request_id}/answer",
        {"answer": "Đang chờ thẩm định của Sở Tư pháp"},
        page,
    )
    assert response.status_code == 302
    assert "Leadership asks" not in head.get("/unit").get_data(as_text=True)

    leader = client.application.test_client()
    sign_in(leader, "laichau.leader")
    board = leader.get("/board").get_data(as_text=True)
    assert "Đang chờ thẩm định của Sở Tư pháp" in board and "Vì sao quá hạn?" in board


def test_a_unit_head_who_posts_a_direction_gets_403_and_nothing_changes(organisation, plan, client):
    tid = _task_id(organisation)
    before = _state(organisation)
    sign_in(client, "vps.head")
    page = f"/tasks/{tid}"
    assert post_form(client, f"{page}/directions", {"text": "Tự chỉ đạo"}, page).status_code == 403
    response = post_form(client, f"{page}/explanations", {"question": "?"}, page)
    assert response.status_code == 403
    assert _state(organisation) == before


def test_an_empty_comment_or_a_past_date_re_displays_the_form(organisation, plan, client):
    tid = _task_id(organisation)
    before = _state(organisation)
    page = f"/tasks/{tid}"
    sign_in(client, "skhcn.director")
    response = post_form(client, f"{page}/comments", {"text": "   "}, page)
    assert response.status_code == 400
    assert 'data-field="text"' in response.get_data(as_text=True)
    response = post_form(
        client, f"{page}/explanations", {"question": "Vì sao?", "answer_by": "2026-11-01"}, page
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "01/11/2026" in html and "Vì sao?" in html  # the message, and what was typed
    assert _state(organisation) == before


def test_the_task_history_names_each_discussion_entry(organisation, plan, client):
    _act(organisation, "skhcn.director", "1", lambda c, u, t: svc.give_direction(c, u, t, "Làm"))
    with organisation.context(write=False) as ctx:
        assert ctx.session.get(Task, _task_id(organisation)).status == "in_progress"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, "vps.head")
    html = client.get(f"/tasks/{_task_id(organisation)}").get_data(as_text=True)
    assert '<li data-action="direction">' in html.replace("\n", "")
