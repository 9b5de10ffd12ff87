"""Indicators and their reported values: reading a value, judging it against the target, who may
report, the history and the standings, on the real seed plans (Sở KH&CN 57/2025 with its
targets, Vĩnh Tuy 2244 with its national codes and no targets)."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import user
from workflow.demo import SEEDS
from workflow.errors import ImportFailed, InvalidInput, PermissionDenied
from workflow.importer import import_plan, read_source
from workflow.indicators import (
    IndicatorValueRewritten,
    Status,
    classify,
    indicator_history,
    indicator_standings,
    read_number,
    record_indicator_value,
    status_counts,
)
from workflow.models import Indicator, IndicatorValue, Plan
from workflow.tasks import start_plan

SKHCN, VINHTUY = "skhcn-57-2025", "vinhtuy-2244"


@pytest.fixture
def seeded(organisation, clock):
    """The two seed plans with indicators, imported and started by their Offices."""
    with organisation.context() as ctx:
        for manifest, office in (
            ("01-skhcn-57-2025.toml", "vps.office"),
            ("04-vinhtuy-2244.toml", "vinhtuy.office"),
        ):
            result = import_plan(ctx, user(ctx, office), read_source(SEEDS / manifest))
            start_plan(ctx, user(ctx, office), result.plan.id)
    return organisation


def indicator_id(ctx, plan: str, ref: str) -> int:
    found = ctx.session.scalar(
        sa.select(Indicator.id).join(Plan).where(Plan.code == plan, Indicator.ref == ref)
    )
    assert found is not None, (plan, ref)
    return found


def plan_id(ctx, code: str) -> int:
    return ctx.session.scalar(sa.select(Plan.id).where(Plan.code == code))


def report(engine, username: str, ref: str, value: str, period: str = "2026", **extra):
    with engine.context() as ctx:
        record_indicator_value(
            ctx, user(ctx, username), indicator_id(ctx, SKHCN, ref), period, value, **extra
        )


def value_count(engine) -> int:
    with engine.context(write=False) as ctx:
        return ctx.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue))


def standings_by_ref(ctx, code: str, as_of: date) -> dict:
    found = indicator_standings(ctx.session, plan_id(ctx, code), as_of)
    return {s.indicator.ref: s for s in found}


# --- the rule, as a table ------------------------------------------------------------------------


def _indicator(target_text: str, comparator: str | None, target: str | None, measure: str = ""):
    return Indicator(
        target_text=target_text,
        comparator=comparator,
        target_value=Decimal(target) if target is not None else None,
        measure=measure,
    )


def _value(number: str | None, assessment: str | None = None):
    return IndicatorValue(
        value=Decimal(number) if number is not None else None,
        value_text=number or "",
        assessment=assessment,
    )


@pytest.mark.parametrize(
    ("target", "comparator", "number", "measure", "value", "expected"),
    [
        ("≥ 40", "≥", "40", "%", "40", Status.MET),
        ("≥ 40", "≥", "40", "%", "39.9", Status.NOT_MET),
        ("> 0,623", ">", "0.623", "HDI", "0.623", Status.NOT_MET),
        ("> 0,623", ">", "0.623", "HDI", "0.65", Status.MET),
        ("≤ 57", "≤", "57", "%", "57", Status.MET),
        ("≤ 57", "≤", "57", "%", "60", Status.NOT_MET),
        ("< 10", "<", "10", "", "10", Status.NOT_MET),
        ("< 10", "<", "10", "", "9", Status.MET),
        ("= 100", "=", "100", "%", "100", Status.MET),
        ("= 100", "=", "100", "%", "99.5", Status.NOT_MET),
        # a number without comparator: at least
        ("10", None, "10", "Người/vạn dân", "12", Status.MET),
        ("10", None, "10", "Người/vạn dân", "9", Status.NOT_MET),
        # ... except a rank, where lower is better
        ("55", None, "55", "Thứ bậc", "50", Status.MET),
        ("55", None, "55", "Thứ bậc", "56", Status.NOT_MET),
        ("30", None, "30", "Xếp hạng", "31", Status.NOT_MET),
        ("30", None, "30", "thu hang", "29", Status.MET),
        # a rank with its comparator written: as written
        ("≤ 55", "≤", "55", "Thứ bậc", "50", Status.MET),
    ],
)
def test_a_number_is_judged_by_the_comparator(target, comparator, number, measure, value, expected):
    assert classify(_indicator(target, comparator, number, measure), _value(value)) is expected


def test_a_target_in_words_is_judged_by_the_reporter_and_no_target_is_not_judged():
    words = _indicator("Đạt mức trung bình ở các lĩnh vực quan trọng", None, None, "Thứ bậc")
    assert classify(words, _value(None, "met")) is Status.MET
    assert classify(words, _value("30", "not_met")) is Status.NOT_MET
    none = _indicator("", None, None)
    assert classify(none, _value("1250")) is Status.NO_TARGET
    assert classify(none, _value(None)) is Status.NO_TARGET
    for indicator in (words, none, _indicator("≥ 40", "≥", "40", "%")):
        assert classify(indicator, None) is Status.NO_DATA


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("45", "45"),
        ("45 %", "45"),
        ("45,5%", "45.5"),
        ("0,65", "0.65"),
        ("1.234,5", "1234.5"),
        ("1.234", "1234"),
        ("-2,5", "-2.5"),
        ("hạng 50", "50"),
        ("Hang 50", "50"),
        ("thứ hạng 12", "12"),
        ("xếp hạng 7", "7"),
        ("  45\n%", "45"),
    ],
)
def test_values_are_read_the_vietnamese_way(text, number):
    assert read_number(text) == Decimal(number)


@pytest.mark.parametrize("text", ["0.65", "45.5", "1.23", "abc", "45 người", "1 234", "45-50", ""])
def test_what_is_not_read_as_a_number(text):
    assert read_number(text) is None


# --- on the seed plans ---------------------------------------------------------------------------


def test_seed_targets_judge_the_reported_values(seeded):
    report(seeded, "ttkd.head", "I.3", "45 %", source_note="Điều tra doanh nghiệp")  # ≥ 40
    report(seeded, "vps.head", "I.4", "0,65")  # > 0,623
    report(seeded, "ttkd.head", "I.5", "9,5")  # 10 people per 10,000: at least
    report(seeded, "qlkhcn.head", "I.6", "60")  # ≤ 57
    report(seeded, "qlkhcn.head", "II.2", "hạng 50")  # rank ≤ 55
    report(seeded, "vps.head", "I.1", "Đạt mức trung bình", assessment="met")  # in words
    with seeded.context(write=False) as ctx:
        _check_seed_standings(standings_by_ref(ctx, SKHCN, date(2026, 11, 22)))


def _check_seed_standings(standings: dict) -> None:
    assert list(standings) == ["I.1", "I.2", "I.3", "I.4", "I.5", "I.6", "II.1", "II.2"]
    assert {ref: s.status for ref, s in standings.items()} == {
        "I.1": Status.MET,
        "I.2": Status.NO_DATA,
        "I.3": Status.MET,
        "I.4": Status.MET,
        "I.5": Status.NOT_MET,
        "I.6": Status.NOT_MET,
        "II.1": Status.NO_DATA,
        "II.2": Status.MET,
    }
    i3 = standings["I.3"]
    assert (i3.latest.value_text, i3.latest.value, i3.latest.period_key) == ("45 %", 45, "2026")
    assert i3.latest.source_note == "Điều tra doanh nghiệp" and i3.latest.unit.code == "TTKD"
    assert i3.section_title == "Đến năm 2030" and standings["II.2"].section_title == "Đến năm 2045"
    assert status_counts(standings.values()) == {
        Status.MET: 4,
        Status.NOT_MET: 2,
        Status.NO_DATA: 2,
        Status.NO_TARGET: 0,
    }


def test_a_correction_replaces_the_value_in_the_standing_and_stays_in_the_history(seeded, clock):
    report(seeded, "qlkhcn.head", "I.6", "60")
    clock.set(date(2026, 11, 25))
    report(seeded, "qlkhcn.head", "I.6", "55", source_note="Số liệu chính thức")
    with seeded.context(write=False) as ctx:
        now = standings_by_ref(ctx, SKHCN, date(2026, 11, 25))["I.6"]
        assert (now.latest.value_text, now.status, now.values) == ("55", Status.MET, 2)
        before = standings_by_ref(ctx, SKHCN, date(2026, 11, 24))["I.6"]
        assert (before.latest.value_text, before.status, before.values) == (
            "60",
            Status.NOT_MET,
            1,
        )
        history = indicator_history(ctx.session, indicator_id(ctx, SKHCN, "I.6"))
        assert [(v.value_text, v.source_note) for v in history] == [
            ("60", ""),
            ("55", "Số liệu chính thức"),
        ]


def test_the_latest_period_stands_not_a_later_correction_of_an_earlier_one(seeded, clock):
    report(seeded, "ttkd.head", "I.3", "45", period="2026-H1")
    report(seeded, "ttkd.head", "I.3", "38", period="2026-Q3")
    report(seeded, "ttkd.head", "I.3", "30", period="2025")  # last year's, reported last
    with seeded.context(write=False) as ctx:
        standing = standings_by_ref(ctx, SKHCN, date(2026, 11, 22))["I.3"]
        assert (standing.period_key, standing.status, standing.values) == (
            "2026-Q3",
            Status.NOT_MET,
            3,
        )
    report(seeded, "ttkd.head", "I.3", "41", period="2026")  # the year outranks its Q4 and Dec
    report(seeded, "ttkd.head", "I.3", "39", period="2026-11")
    with seeded.context(write=False) as ctx:
        standing = standings_by_ref(ctx, SKHCN, date(2026, 11, 22))["I.3"]
        assert (standing.period_key, standing.latest.value_text) == ("2026", "41")


def test_vinh_tuy_national_codes_are_kept_and_have_no_target(seeded):
    with seeded.context(write=False) as ctx:
        standings = standings_by_ref(ctx, VINHTUY, date(2026, 11, 22))
        codes = [s.indicator.code for s in standings.values()]
        assert codes == ["0407", "0408", "0409", "0410", "0411", "0412"]
        assert {s.status for s in standings.values()} == {Status.NO_DATA}
    with seeded.context() as ctx:
        record_indicator_value(
            ctx,
            user(ctx, "vhxh.head"),
            indicator_id(ctx, VINHTUY, "01"),
            "2026",
            "1.250",
            "Thống kê của phường",
        )
    with seeded.context(write=False) as ctx:
        standing = standings_by_ref(ctx, VINHTUY, date(2026, 11, 22))["01"]
        assert (standing.status, standing.latest.value) == (Status.NO_TARGET, Decimal("1250"))


def test_standings_can_be_narrowed_to_the_lead_units(seeded):
    with seeded.context(write=False) as ctx:
        qlkhcn = user(ctx, "qlkhcn.head").unit_id
        found = indicator_standings(
            ctx.session, plan_id(ctx, SKHCN), date(2026, 11, 22), unit_ids=[qlkhcn]
        )
        assert [s.indicator.ref for s in found] == ["I.6", "II.2"]


def test_standings_take_a_fixed_number_of_queries(seeded):
    def statements() -> int:
        with seeded.context(write=False) as ctx:
            seen: list[str] = []
            listen = lambda *args: seen.append(args[2])  # noqa: E731
            connection = ctx.session.connection()
            sa.event.listen(connection, "before_cursor_execute", listen)
            indicator_standings(ctx.session, plan_id(ctx, SKHCN), date(2026, 11, 22))
            sa.event.remove(connection, "before_cursor_execute", listen)
            return len(seen)

    few = statements()
    for ref in ("I.3", "I.5"):
        report(seeded, "ttkd.head", ref, "45")
        report(seeded, "ttkd.head", ref, "46", period="2026-Q4")
    report(seeded, "qlkhcn.head", "I.6", "50")
    report(seeded, "qlkhcn.head", "II.2", "hạng 40")
    assert statements() == few


# --- who may report, and what is refused ---------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "ref"),
    [
        ("qltdc.head", "I.3"),  # another unit's head (I.3 is the Centre's)
        ("qlkhcn.delegate", "I.3"),
        ("ttkd.head", "I.6"),
        ("skhcn.director", "I.3"),  # leadership: no data entry
        ("vinhtuy.office", "I.3"),  # the Office of another organisation
    ],
)
def test_only_the_lead_units_and_the_office_report(seeded, username, ref):
    with pytest.raises(PermissionDenied) as refused:
        report(seeded, username, ref, "45")
    assert username in str(refused.value)
    assert value_count(seeded) == 0


def test_lead_unit_heads_delegates_and_the_office_report(seeded):
    report(seeded, "qlkhcn.head", "I.6", "50")
    report(seeded, "qlkhcn.delegate", "I.6", "51")
    report(seeded, "vps.office", "I.3", "45")  # the Office collects every figure of its plans
    report(seeded, "admin", "I.4", "0,7")
    assert value_count(seeded) == 4


@pytest.mark.parametrize(
    ("ref", "value", "period", "assessment", "field"),
    [
        ("I.3", "khoảng bốn mươi", "2026", None, "value"),
        ("I.3", "0.45", "2026", None, "value"),  # a decimal point: 0,45 or 45?
        ("I.3", "   ", "2026", None, "value"),
        ("I.4", "0,62345", "2026", None, "value"),  # more decimals than are kept
        ("I.3", "45", "2026-13", None, "period"),
        ("I.3", "45", "Q4/2026", None, "period"),
        ("I.3", "45", "2027", None, "period"),  # has not begun
        ("I.3", "45", "2026-12", None, "period"),  # next month
        ("I.1", "Đạt mức trung bình", "2026", None, "assessment"),  # words need an assessment
        ("I.1", "Đạt mức trung bình", "2026", "maybe", "assessment"),
        ("I.3", "45", "2026", "met", "assessment"),  # a number is judged by itself
    ],
)
def test_bad_values_are_refused_naming_the_field(seeded, ref, value, period, assessment, field):
    with pytest.raises(InvalidInput) as refused:
        unit = "vps.head" if ref in ("I.1", "I.4") else "ttkd.head"
        report(seeded, unit, ref, value, period=period, assessment=assessment)
    assert str(refused.value).startswith(f"{field}:")
    assert value_count(seeded) == 0


@pytest.mark.parametrize("period", ["2026", "2026-H2", "2026-Q4", "2026-11", "2025", " 2026-q4 "])
def test_current_and_past_periods_are_taken(seeded, period):
    report(seeded, "ttkd.head", "I.3", "45", period=period)
    with seeded.context(write=False) as ctx:
        assert ctx.session.scalar(sa.select(IndicatorValue.period_key)) == period.strip().upper()


def test_a_reported_value_is_never_rewritten(seeded):
    report(seeded, "ttkd.head", "I.3", "45")
    with pytest.raises(IndicatorValueRewritten), seeded.context() as ctx:
        ctx.session.scalar(sa.select(IndicatorValue)).value_text = "50"
        ctx.session.flush()
    with pytest.raises(IndicatorValueRewritten), seeded.context() as ctx:
        ctx.session.delete(ctx.session.scalar(sa.select(IndicatorValue)))
        ctx.session.flush()
    with seeded.context(write=False) as ctx:
        assert ctx.session.scalar(sa.select(IndicatorValue.value_text)) == "45"


def test_reordered_indicator_rows_cannot_move_reported_values(seeded, tmp_path):
    """Indicators are matched by STT on re-import: once one has values, a file that puts
    another indicator under its number is refused, naming the row, and nothing moves."""
    report(seeded, "ttkd.head", "I.3", "45 %")
    for name in ("01-skhcn-57-2025.toml", "01-skhcn-57-2025-tasks.csv"):
        shutil.copy(SEEDS / name, tmp_path / name)
    lines = (SEEDS / "01-skhcn-57-2025-indicators.csv").read_text(encoding="utf-8").splitlines()
    third = lines.index(next(x for x in lines if x.startswith("3,")))
    fourth = third + 1
    lines[third], lines[fourth] = (
        lines[fourth].replace("4,", "3,", 1),
        lines[third].replace("3,", "4,", 1),
    )
    (tmp_path / "01-skhcn-57-2025-indicators.csv").write_text("\n".join(lines), encoding="utf-8")
    with seeded.context() as ctx, pytest.raises(ImportFailed) as refused:
        import_plan(ctx, user(ctx, "vps.office"), read_source(tmp_path / "01-skhcn-57-2025.toml"))
    assert (
        "01-skhcn-57-2025-indicators.csv row 5, column 'STT': I.3 here is not indicator I.3"
        in str(refused.value)
    )
    with seeded.context(write=False) as ctx:
        standing = {
            s.indicator.ref: s
            for s in indicator_standings(ctx.session, plan_id(ctx, SKHCN), date(2026, 12, 31))
        }
        assert standing["I.3"].indicator.name == "Tỷ lệ doanh nghiệp có hoạt động đổi mới sáng tạo"
        assert standing["I.3"].latest.value_text == "45 %"


def test_a_period_long_before_the_plan_is_refused_the_year_before_is_a_baseline(seeded):
    with seeded.context() as ctx:
        ctx.session.get(Plan, plan_id(ctx, SKHCN)).issued_on = date(2025, 2, 10)
    with pytest.raises(InvalidInput) as refused:
        report(seeded, "ttkd.head", "I.3", "45", period="2023")
    assert str(refused.value).startswith("period: 2023 is before plan")
    assert value_count(seeded) == 0
    report(seeded, "ttkd.head", "I.3", "38", period="2024")
    assert value_count(seeded) == 1
