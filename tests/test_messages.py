"""Engine messages: templates with values, English by str(), translated where the reader is."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from workflow.errors import ImportFailed, InvalidInput, NhiemvuError
from workflow.messages import N_, Message, MessageParamsError, term
from workflow.regime import describe_period

ROOT = Path(__file__).resolve().parent.parent
PROPOSED = N_("proposed date: %(proposed)s is not after the due date %(due)s")


def test_str_is_the_english_sentence_with_dates_as_dd_mm_yyyy() -> None:
    error = InvalidInput(PROPOSED, proposed=date(2027, 1, 31), due=date(2027, 6, 30))
    assert str(error) == "proposed date: 31/01/2027 is not after the due date 30/06/2027"
    assert error.template == PROPOSED
    assert error.params == {"proposed": date(2027, 1, 31), "due": date(2027, 6, 30)}
    assert error.args == (str(error),)


def test_a_missing_value_is_refused_where_the_message_is_made() -> None:
    with pytest.raises(MessageParamsError, match=r"proposed date.*missing due"):
        InvalidInput(PROPOSED, proposed=date(2027, 1, 31))
    with pytest.raises(MessageParamsError, match="not in the template: when"):
        Message(PROPOSED, proposed=1, due=2, when=3)


def test_a_plain_string_still_works_as_it_is() -> None:
    assert str(InvalidInput("progress: 100 % done")) == "progress: 100 % done"
    assert str(InvalidInput("a cell reading %(x)s")) == "a cell reading %(x)s"  # data, not a bug
    assert str(NhiemvuError()) == ""


def test_a_template_with_values_writes_a_percent_sign_twice() -> None:
    message = Message(N_("only a complete report (100 %%) meets task %(task)s"), task=7)
    assert str(message) == "only a complete report (100 %) meets task 7"


def test_render_translates_the_template_and_every_nested_message() -> None:
    words = {
        "%(who)s may not %(action)s": "%(who)s không có quyền %(action)s",
        "%(user)s (%(role)s)": "%(user)s (%(role)s)",
        "unit_head": "lãnh đạo đơn vị",
        "report": "báo cáo",
        "start": "triển khai",
        "cancel": "hủy",
    }
    who = Message(N_("%(user)s (%(role)s)"), user="vps.head", role=term("unit_head"))
    error = NhiemvuError(N_("%(who)s may not %(action)s"), who=who, action=term("report"))
    assert str(error) == "vps.head (unit_head) may not report"
    assert (
        error.render(lambda t: words.get(t, t))
        == "vps.head (lãnh đạo đơn vị) không có quyền báo cáo"
    )
    listing = Message(N_("allowed: %(events)s"), events=[term("start"), term("cancel")])
    assert listing.render(lambda t: words.get(t, t)) == "allowed: triển khai, hủy"


def test_import_failed_keeps_its_problem_list() -> None:
    error = ImportFailed("plan.toml", ["row 3: no name", "row 4: no unit"])
    assert (
        str(error) == "plan.toml: 2 problems, nothing imported\n  row 3: no name\n  row 4: no unit"
    )


@pytest.mark.parametrize(
    ("key", "english"),
    [
        ("2026-11", "November 2026"),
        ("2026-Q4", "Q4 2026"),
        ("2026-H1", "first half of 2026"),
        ("2026-H2", "second half of 2026"),
        ("2026", "2026"),
        ("whatever", "whatever"),
    ],
)
def test_describe_period_is_a_message(key: str, english: str) -> None:
    assert str(describe_period(key)) == english


def _marked_calls() -> list[tuple[str, str, set[str], bool]]:
    """(where, template, keywords, has **) for every call whose first argument is N_("...")."""
    found = []
    for path in sorted((ROOT / "workflow").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            first = node.args[0]
            if not (
                isinstance(first, ast.Call)
                and isinstance(first.func, ast.Name)
                and first.func.id == "N_"
                and isinstance(first.args[0], ast.Constant)
            ):
                continue
            names = {k.arg for k in node.keywords if k.arg is not None}
            spread = any(k.arg is None for k in node.keywords)
            found.append((f"{path.name}:{node.lineno}", first.args[0].value, names, spread))
    return found


def test_every_marked_message_in_the_engine_is_given_the_values_it_names() -> None:
    """A static check of every raise site, also those no other test reaches."""
    calls = _marked_calls()
    assert len(calls) > 50
    for where, template, names, spread in calls:
        wanted = set(re.findall(r"%\((\w+)\)", template))
        if spread:  # **values: at least nothing unknown
            assert names <= wanted, (where, template, names)
        else:
            assert names == wanted, (where, template, names)
