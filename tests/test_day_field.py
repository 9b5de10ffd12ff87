"""Dates typed the Vietnamese way: dd/mm/yyyy in a text input, ISO accepted too."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask_babel import Babel
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.validators import InputRequired, Optional

from web.forms import DayField, parse_day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("30/6/2026", date(2026, 6, 30)),
        ("30/06/2026", date(2026, 6, 30)),
        ("2026-06-30", date(2026, 6, 30)),
        (" 1/1/2027 ", date(2027, 1, 1)),
        ("29/02/2028", date(2028, 2, 29)),
        ("31/02/2026", None),
        ("12/31/2027", None),  # month first, as an English browser writes it
        ("2026-6-30", None),
        ("30/06/26", None),
        ("30-06-2026", None),
        ("hôm nay", None),
        ("", None),
    ],
)
def test_parse_day(text: str, day: date | None) -> None:
    assert parse_day(text) == day


class _Form(FlaskForm):
    class Meta:
        csrf = False

    when = DayField("Proposed date", validators=[Optional()])
    issued = DayField("Date of the document", validators=[InputRequired()])


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", BABEL_DEFAULT_LOCALE="en")
    Babel(app)
    return app


def _form(app: Flask, **data: str) -> _Form:
    with app.test_request_context(method="POST"):
        form = _Form(formdata=MultiDict(data))
        form.validate()
        return form


def test_a_good_date_is_read_and_shown_the_vietnamese_way(app: Flask) -> None:
    form = _form(app, when="30/6/2026", issued="2026-11-02")
    assert not form.errors
    assert (form.when.data, form.issued.data) == (date(2026, 6, 30), date(2026, 11, 2))
    assert form.when._value() == "30/6/2026"  # shown again as typed
    with app.test_request_context():
        fresh = _Form(formdata=None, when=date(2026, 6, 30))
        html = fresh.when()
    assert 'type="text"' in html and 'value="30/06/2026"' in html
    assert 'placeholder="dd/mm/yyyy"' in html and 'inputmode="numeric"' in html


def test_a_bad_date_is_refused_with_what_was_typed(app: Flask) -> None:
    form = _form(app, when="31/02/2026", issued="12/31/2027")
    assert form.errors == {
        "when": ["'31/02/2026' is not a date (dd/mm/yyyy)"],
        "issued": ["'12/31/2027' is not a date (dd/mm/yyyy)"],
    }
    assert form.when._value() == "31/02/2026"


def test_empty_is_none_unless_required(app: Flask) -> None:
    form = _form(app, when="", issued="")
    assert form.when.data is None
    assert list(form.errors) == ["issued"]
