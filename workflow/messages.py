"""Words for people, written by the engine without knowing the reader's language.

A :class:`Message` is a template marked with :func:`N_` (so that ``python tools/i18n.py``
extracts it into the catalogs) and the values it names::

    raise InvalidInput(
        N_("proposed date: %(proposed)s is not after the due date %(due)s"),
        proposed=proposed_date,
        due=item.due_date,
    )

``str()`` gives the source text, English, as the CLI prints it; the web app translates the
template and each nested message for its reader (``web/errors.py``). Values are formatted the
same way in every language: a date as 30/06/2026, a message by its own rendering, a list as
its items joined by commas.

A template with values is %-formatted, so a literal percent sign is written ``%%``; a template
without values is text shown as it is (as gettext does), so that a plain string holding a
user's data can never break. Given values must be exactly the ones the template names: a
missing or unknown one is a bug, raised where the message is made, not when it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime

_PLACEHOLDER = re.compile(r"%\((\w+)\)")

Translate = Callable[[str], str]


def N_(template: str) -> str:
    """Mark ``template`` for extraction; it is translated later, where the reader is known."""
    return template


def _same(template: str) -> str:
    return template


class MessageParamsError(TypeError):
    """A message was made without a value its template needs, or with one it does not name."""


class Message:
    """A template and its values: ``Message(N_("task %(task)s does not exist"), task=7)``."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: object) -> None:
        named = set(_PLACEHOLDER.findall(template)) if params else set()
        missing, unknown = named - params.keys(), params.keys() - named
        if missing or unknown:
            raise MessageParamsError(
                f"message {template!r}: "
                + "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(sorted(missing))}" if missing else "",
                        f"not in the template: {', '.join(sorted(unknown))}" if unknown else "",
                    )
                    if part
                )
            )
        self.template = template
        self.params: Mapping[str, object] = params

    def render(self, translate: Translate = _same) -> str:
        """The text, with the template and every nested message passed through ``translate``."""
        text = translate(self.template)
        if not self.params:
            return text
        return text % {name: render_value(v, translate) for name, v in self.params.items()}

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Message({self.template!r}{params})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (self.template, dict(self.params)) == (other.template, dict(other.params))

    def __hash__(self) -> int:
        return hash((self.template, tuple(sorted(self.params))))


def render_value(value: object, translate: Translate = _same) -> str:
    """One value of a message as every language shows it."""
    if isinstance(value, Message):
        return value.render(translate)
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, list | tuple):
        return ", ".join(render_value(v, translate) for v in value)
    return str(value)


class Text(str):
    """A message as its English text, still carrying the message.

    For lists that code reads as text (an import's problems and warnings: the CLI prints them,
    callers search them) and that the web app shows in the reader's language: ``str`` methods
    see the English, :func:`as_message` gives the message back.
    """

    message: Message

    def __new__(cls, message: Message) -> Text:
        text = super().__new__(cls, message.render())
        text.message = message
        return text


def as_text(value: str | Message) -> str:
    """A message as :class:`Text`; a plain string as it is."""
    return Text(value) if isinstance(value, Message) else value


def as_message(value: str | Message) -> Message:
    """A message as it is (a :class:`Text`'s own message), or a plain (or ``N_``-marked)
    string as a message without values."""
    if isinstance(value, Message):
        return value
    return value.message if isinstance(value, Text) else Message(value)


# The engine's vocabulary: states, actions, kinds and roles that its messages name. The English
# text is the code the CLI and the data use; the catalogs give each its words.
_VOCABULARY = (
    # task states
    N_("draft"),
    N_("waiting"),
    N_("in_progress"),
    N_("reported"),
    N_("closed"),
    N_("cancelled"),
    N_("superseded"),
    # report, extension request and due item states
    N_("submitted"),
    N_("accepted"),
    N_("returned"),
    N_("pending"),
    N_("granted"),
    N_("refused"),
    N_("open"),
    N_("satisfied"),
    # events and actions
    N_("view"),
    N_("start"),
    N_("release"),
    N_("report"),
    N_("accept"),
    N_("return"),
    N_("reopen"),
    N_("cancel"),
    N_("supersede"),
    N_("request_extension"),
    N_("decide_extension"),
    N_("edit"),
    N_("import"),
    N_("manage_units"),
    N_("manage_users"),
    N_("direct"),
    # due item kinds
    N_("deadline"),
    N_("occurrence"),
    # timing kinds
    N_("fixed"),
    N_("range"),
    N_("ongoing"),
    N_("recurring"),
    N_("conditional"),
    N_("unknown"),
    # roles
    N_("unit_head"),
    N_("unit_delegate"),
    N_("office"),
    N_("leadership"),
    N_("admin"),
)


def term(code: object) -> Message:
    """A code of the engine's vocabulary (a state, an action, a kind, a role) as a message."""
    return Message(str(code))
