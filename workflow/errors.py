"""Errors a user can cause. Each carries one message fit to show as it is.

The message is a :class:`~workflow.messages.Message`: ``str(error)`` is its English text (the
CLI's), and the web app shows it in the reader's language. A plain string still works; it is
then shown as it is in every language.
"""

from __future__ import annotations

from collections.abc import Sequence

from workflow.messages import N_, Message, Translate, as_message, as_text


class NhiemvuError(Exception):
    """Base of every error that is the user's to fix, not a bug.

    ``NotFound(N_("task %(task)s does not exist"), task=7)``: a template marked for
    translation and the values it names (see :mod:`workflow.messages`).
    """

    def __init__(self, message: str | Message = "", /, **params: object) -> None:
        self.message = Message(message, **params) if params else as_message(message)
        super().__init__(self.message.render())

    @property
    def template(self) -> str:
        return self.message.template

    @property
    def params(self) -> dict[str, object]:
        return dict(self.message.params)

    def render(self, translate: Translate | None = None) -> str:
        """The message, translated by ``translate`` when given."""
        return self.message.render(translate) if translate else self.message.render()

    def __str__(self) -> str:
        return self.render()


class NotFound(NhiemvuError):
    pass


class PermissionDenied(NhiemvuError):
    pass


class IllegalTransition(NhiemvuError):
    pass


class Conflict(NhiemvuError):
    """Someone else changed the record since it was read: reload and try again."""


class InvalidInput(NhiemvuError):
    pass


class ConfigError(NhiemvuError):
    pass


class ImportFailed(NhiemvuError):
    """An import found problems; nothing was written. ``problems`` names each row and column:
    English text, each a :class:`~workflow.messages.Text` when it was made as a message."""

    def __init__(self, source: str, problems: Sequence[str | Message]) -> None:
        self.source = source
        self.problems = [as_text(p) for p in problems]
        template = (
            N_("%(file)s: %(count)s problem, nothing imported")
            if len(problems) == 1
            else N_("%(file)s: %(count)s problems, nothing imported")
        )
        super().__init__(template, file=source, count=len(problems))

    def render(self, translate: Translate | None = None) -> str:
        lines = [as_message(p).render(translate) if translate else p for p in self.problems]
        return "\n".join([super().render(translate), *(f"  {line}" for line in lines)])
