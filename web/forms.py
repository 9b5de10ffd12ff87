"""Form fields shared by the web app's forms."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from wtforms import Field
from wtforms.widgets import TextInput

_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DAY_PLACEHOLDER = "dd/mm/yyyy"


def parse_day(text: str) -> date | None:
    """A day as Vietnamese write it (30/6/2026, 30/06/2026) or in ISO form (2026-06-30)."""
    text = text.strip()
    if match := _DAY.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def not_a_day(text: str) -> str:
    """Why ``text`` was refused, in the reader's language."""
    return _("'%(value)s' is not a date (dd/mm/yyyy)", value=text)


class DayField(Field):
    """A date typed the Vietnamese way, dd/mm/yyyy, in a plain text input.

    A browser's date input shows the browser's locale (mm/dd/yyyy in an English browser) while
    the app writes dd/mm/yyyy everywhere. An empty input is None (pair with ``Optional`` or
    ``InputRequired``, not ``DataRequired``, which would hide why a date was refused); a form
    shown again keeps what was typed.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        render_kw = {"placeholder": DAY_PLACEHOLDER, "inputmode": "numeric", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:%d/%m/%Y}" if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = parse_day(text) if text else None
        if text and self.data is None:
            raise ValueError(not_a_day(text))
