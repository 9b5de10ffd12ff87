"""Directions, requests to explain, answers and comments on the task page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required

from web.auth import me
from web.errors import describe
from web.forms import DISCUSSION_FORMS, AnswerForm, CommentForm, DirectionForm, ExplanationForm
from web.tasks import render_task
from web.work import ctx, undo
from workflow import directions as svc
from workflow.errors import InvalidInput
from workflow.models import Task
from workflow.permissions import Action, require
from workflow.tasks import get_task

bp = Blueprint("directions", __name__, url_prefix="/tasks")


def _submit(task_id: int, action: Action, name: str, act, done: str):
    """Check ``action`` is allowed, validate the named form and run ``act(task, form)``; on a
    refusal re-display the task page with the form as typed."""
    task = get_task(ctx(), task_id, actor=me())
    require(me(), action, task)
    form = DISCUSSION_FORMS[name]()
    if form.validate():
        try:
            act(task, form)
        except InvalidInput as exc:
            undo()
            form.form_errors.append(describe(exc))
        else:
            flash(done, "info")
            return redirect(url_for("tasks.show", task_id=task_id, _anchor="discussion"))
    return render_task(task_id, 400, **{name: form})


@bp.route("/<int:task_id>/directions", methods=["POST"])
@login_required
def direct(task_id: int):
    def act(task: Task, form: DirectionForm) -> None:
        svc.give_direction(ctx(), me(), task, form.text.data)

    return _submit(task_id, Action.DIRECT, "direction_form", act, _("Your direction is recorded."))


@bp.route("/<int:task_id>/explanations", methods=["POST"])
@login_required
def ask(task_id: int):
    def act(task: Task, form: ExplanationForm) -> None:
        svc.request_explanation(ctx(), me(), task, form.question.data, form.answer_by.data)

    done = _("The lead unit is asked to explain.")
    return _submit(task_id, Action.REQUEST_EXPLANATION, "explanation_form", act, done)


@bp.route("/<int:task_id>/explanations/<int:request_id>/answer", methods=["POST"])
@login_required
def answer(task_id: int, request_id: int):
    def act(task: Task, form: AnswerForm) -> None:
        svc.answer_explanation(ctx(), me(), task, request_id, form.answer.data)

    return _submit(task_id, Action.EXPLAIN, "answer_form", act, _("Your explanation is sent."))


@bp.route("/<int:task_id>/comments", methods=["POST"])
@login_required
def comment(task_id: int):
    def act(task: Task, form: CommentForm) -> None:
        svc.add_comment(ctx(), me(), task, form.text.data)

    return _submit(task_id, Action.COMMENT, "comment_form", act, _("Your comment is added."))
