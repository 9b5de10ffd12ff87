"""Tests for workflow.timing: every timing phrase of the seed plans, their messy variants, each
supported form, the impossible ones, and properties over arbitrary text.

Run with ``pytest --noconftest tests/test_timing.py``: nothing here needs a database.
"""

from __future__ import annotations

import calendar
import unicodedata
from dataclasses import asdict
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.timing import MAX_YEAR, MIN_YEAR, Frequency, Timing, TimingKind, parse_timing

FIXED, RANGE, ONGOING = TimingKind.FIXED, TimingKind.RANGE, TimingKind.ONGOING
RECURRING, CONDITIONAL, UNKNOWN = TimingKind.RECURRING, TimingKind.CONDITIONAL, TimingKind.UNKNOWN
MONTHLY, QUARTERLY = Frequency.MONTHLY, Frequency.QUARTERLY
SEMIANNUAL, ANNUAL = Frequency.SEMIANNUAL, Frequency.ANNUAL


def expect(kind: TimingKind, **fields: Any) -> dict[str, Any]:
    """Every field of a Timing but ``raw``, unset ones None."""
    return asdict(Timing(kind, "", **fields)) | {"raw": None}


def parsed(text: str | None) -> dict[str, Any]:
    return asdict(parse_timing(text)) | {"raw": None}


def fixed(year: int, month: int, day: int) -> dict[str, Any]:
    return expect(FIXED, deadline=date(year, month, day))


def span(start: date, end: date) -> dict[str, Any]:
    return expect(RANGE, start=start, deadline=end)


def every(frequency: Frequency, day: int | None = None, month: int | None = None) -> dict:
    return expect(RECURRING, frequency=frequency, anchor_day=day, anchor_month=month)


def waiting(trigger: str) -> dict[str, Any]:
    return expect(CONDITIONAL, trigger=trigger)


def strip_diacritics(text: str) -> str:
    """Remove accents but keep case, as OCR or a keyboard without Telex would."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def spread(text: str) -> str:
    """The same words with messy whitespace: PDF line breaks, tabs, doubled spaces."""
    return "  \n" + text.replace(" ", " \n\t ") + " \r\n "


ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
ONGOING_TIMING = expect(ONGOING)
UNKNOWN_TIMING = expect(UNKNOWN)

# ---------------------------------------------------------------------------------------------
# 1. Every timing phrase in /work/shared/seeds, exactly as written there
# ---------------------------------------------------------------------------------------------

SEED_PHRASES: list[tuple[str, dict[str, Any]]] = [
    # 002: Appendix II "Thời gian hoàn thành" cells (PDF line breaks kept)
    ("3/2025", fixed(2025, 3, 31)),
    ("02/2025", fixed(2025, 2, 28)),
    ("2025", fixed(2025, 12, 31)),
    ("Thường \nxuyên", ONGOING_TIMING),
    ("Thường \nxuyên \n\n", ONGOING_TIMING),
    ("Nhiệm vụ \nthường \nxuyên", ONGOING_TIMING),
    ("Hàng năm", every(ANNUAL)),
    ("Sau khi có \nvăn bản \nhướng dẫn \ncủa Trung \nương", waiting("Trung ương")),
    ("Sau khi có \nhướng dẫn \ncủa UBND \ntỉnh", waiting("UBND tỉnh")),
    (
        "Sau khi có \nhướng dẫn \ncủa Bộ \nThông tin và \nTruyền \nthông, Bộ \nKhoa học và \n"
        "Công nghệ",
        waiting("Bộ Thông tin và Truyền thông, Bộ Khoa học và Công nghệ"),
    ),
    (
        "Sau khi các \nvăn bản Luật, \nNghị định \nđược ban \nhành ",
        waiting("các văn bản Luật, Nghị định được ban hành"),
    ),
    ("Sau khi có \nhướng dẫn \ncủa trung \nương", waiting("trung ương")),
    ("Theo chỉ đạo \ncủa Trung \nương", waiting("Trung ương")),
    (
        "Sau khi Thủ \ntướng Chính \nphủ ban hành \nQuyết định ",
        waiting("Thủ tướng Chính phủ ban hành Quyết định"),
    ),
    # 002: Appendix I section headings of the indicator targets
    ("Đến năm 2030", fixed(2030, 12, 31)),
    ("Đến năm 2045", fixed(2045, 12, 31)),
    # 000: annual reporting chain
    ("trước ngày 12 tháng 4 hằng năm", every(ANNUAL, 12, 4)),
    ("ngày 15 tháng 4 hằng năm", every(ANNUAL, 15, 4)),
    (
        "định kỳ trước ngày 15 tháng 4 hằng năm (hoặc đột xuất khi có yêu cầu)",
        every(ANNUAL, 15, 4),
    ),
    ("định kỳ hằng năm", every(ANNUAL)),
    # 001
    ("trước ngày 25 tháng 12 hằng năm theo quy định", every(ANNUAL, 25, 12)),
    ("trước ngày 25 tháng 12 hằng năm", every(ANNUAL, 25, 12)),
    ("trước ngày 05 tháng 12 hằng năm", every(ANNUAL, 5, 12)),
    ("năm 2026", fixed(2026, 12, 31)),
    # 003: "d) Thời gian thực hiện: ..." and the report deadlines
    ("Thường xuyên.", ONGOING_TIMING),
    ("Hằng năm.", every(ANNUAL)),
    ("Định kỳ hằng năm", every(ANNUAL)),
    ("trước ngày 25/3 hằng năm", every(ANNUAL, 25, 3)),
    (
        "trước ngày 25/3 hằng năm hoặc đột xuất khi có yêu cầu của UBND phường hoặc các cơ quan, "
        "đơn vị ngành",
        every(ANNUAL, 25, 3),
    ),
    ("trước ngày 15/4 hằng năm", every(ANNUAL, 15, 4)),
    # 004: OCR without diacritics, garbled words kept as they are in the seed
    ("trude ngay 14 hang thang,\nquy, 06 thang, ndm", every(MONTHLY, 14)),
    ("trudce ngay 15 hang\nthang, quy, 06 thang, nam", every(MONTHLY, 15)),
    ("Dinh ky hang nam", every(ANNUAL)),
    ("Hang nim", every(ANNUAL)),
    ("hing nim", every(ANNUAL)),
    ("hang ndm", every(ANNUAL)),
    ("thuong xuyén", ONGOING_TIMING),
    ("thudng xuyén, lién tuc", ONGOING_TIMING),
    ("dén nam 2030", fixed(2030, 12, 31)),
]
SEED_TEXTS = [text for text, _ in SEED_PHRASES]


@pytest.mark.parametrize(("text", "expected"), SEED_PHRASES)
def test_seed_phrase_as_written(text: str, expected: dict[str, Any]) -> None:
    assert parsed(text) == expected
    assert parse_timing(text).raw == text


# ---------------------------------------------------------------------------------------------
# 2. The same phrases without diacritics, in upper case, with extra whitespace
# ---------------------------------------------------------------------------------------------


def _trigger_too(expected: dict[str, Any], change) -> dict[str, Any]:
    trigger = expected["trigger"]
    return expected | {"trigger": None if trigger is None else change(trigger)}


@pytest.mark.parametrize(("text", "expected"), SEED_PHRASES)
def test_seed_phrase_without_diacritics(text: str, expected: dict[str, Any]) -> None:
    assert parsed(strip_diacritics(text)) == _trigger_too(expected, strip_diacritics)


@pytest.mark.parametrize(("text", "expected"), SEED_PHRASES)
def test_seed_phrase_upper_case(text: str, expected: dict[str, Any]) -> None:
    assert parsed(text.upper()) == _trigger_too(expected, str.upper)


@pytest.mark.parametrize(("text", "expected"), SEED_PHRASES)
def test_seed_phrase_upper_case_without_diacritics(text: str, expected: dict[str, Any]) -> None:
    assert parsed(strip_diacritics(text).upper()) == _trigger_too(
        expected, lambda trigger: strip_diacritics(trigger).upper()
    )


@pytest.mark.parametrize(("text", "expected"), SEED_PHRASES)
def test_seed_phrase_with_extra_whitespace(text: str, expected: dict[str, Any]) -> None:
    assert parsed(spread(text)) == expected


def test_brief_examples_without_diacritics() -> None:
    assert parsed("Sau khi co huong dan cua Trung uong") == waiting("Trung uong")
    assert parsed("Thuong xuyen") == ONGOING_TIMING
    assert parsed("THƯỜNG\nXUYÊN") == ONGOING_TIMING
    assert parsed("hang nam") == every(ANNUAL)


def test_decomposed_unicode_reads_like_composed() -> None:
    text = "Sau khi có hướng dẫn của Trung ương"
    assert parsed(unicodedata.normalize("NFD", text)) == waiting("Trung ương")


# ---------------------------------------------------------------------------------------------
# 3. Each supported form, and the impossible or ambiguous ones
# ---------------------------------------------------------------------------------------------

FORMS: list[tuple[str, dict[str, Any]]] = [
    # ongoing
    ("Thường xuyên", ONGOING_TIMING),
    ("Nhiệm vụ thường xuyên", ONGOING_TIMING),
    ("Thực hiện thường xuyên", ONGOING_TIMING),
    ("Thường xuyên, liên tục", ONGOING_TIMING),
    ("Thường xuyên;", ONGOING_TIMING),
    ("- Thường xuyên.", ONGOING_TIMING),
    # recurring
    ("Hàng năm", every(ANNUAL)),
    ("Hằng năm", every(ANNUAL)),
    ("Định kỳ hằng năm", every(ANNUAL)),
    ("Mỗi năm", every(ANNUAL)),
    ("Hằng quý", every(QUARTERLY)),
    ("Hàng quý", every(QUARTERLY)),
    ("Định kỳ hằng quý", every(QUARTERLY)),
    ("Hằng tháng", every(MONTHLY)),
    ("Hàng tháng", every(MONTHLY)),
    ("6 tháng/lần", every(SEMIANNUAL)),
    ("06 tháng/lần", every(SEMIANNUAL)),
    ("6 tháng một lần", every(SEMIANNUAL)),
    ("Hằng 6 tháng", every(SEMIANNUAL)),
    ("Định kỳ 6 tháng", every(SEMIANNUAL)),
    ("Hằng quý, năm", every(QUARTERLY)),
    ("Trước ngày 12 tháng 4 hằng năm", every(ANNUAL, 12, 4)),
    ("trước ngày 12/4 hằng năm", every(ANNUAL, 12, 4)),
    ("Trước 25/3 hằng năm", every(ANNUAL, 25, 3)),
    ("ngày 15/4 hằng năm", every(ANNUAL, 15, 4)),
    ("Hằng năm, trước ngày 15/4", every(ANNUAL, 15, 4)),
    ("Trước ngày 14 hằng tháng", every(MONTHLY, 14)),
    ("Trước ngày 15 hằng tháng, quý, 06 tháng, năm", every(MONTHLY, 15)),
    ("Hằng tháng, trước ngày 20", every(MONTHLY, 20)),
    ("Trước ngày 14 hằng quý", every(QUARTERLY, 14)),
    # fixed: month
    ("3/2025", fixed(2025, 3, 31)),
    ("02/2025", fixed(2025, 2, 28)),
    ("02/2024", fixed(2024, 2, 29)),
    ("Tháng 3/2025", fixed(2025, 3, 31)),
    ("tháng 3 năm 2025", fixed(2025, 3, 31)),
    ("T3/2025", fixed(2025, 3, 31)),
    ("03-2025", fixed(2025, 3, 31)),
    ("Tháng 12 / 2025", fixed(2025, 12, 31)),
    ("Trong tháng 6/2026", fixed(2026, 6, 30)),
    ("Cuối tháng 9/2025", fixed(2025, 9, 30)),
    # fixed: year
    ("2025", fixed(2025, 12, 31)),
    ("Năm 2025", fixed(2025, 12, 31)),
    ("Trong năm 2025", fixed(2025, 12, 31)),
    ("Cuối năm 2025", fixed(2025, 12, 31)),
    ("Hoàn thành trong năm 2025.", fixed(2025, 12, 31)),
    # fixed: quarter
    ("Quý II/2026", fixed(2026, 6, 30)),
    ("Quý 2/2026", fixed(2026, 6, 30)),
    ("Quý II năm 2026", fixed(2026, 6, 30)),
    ("quý IV - 2025", fixed(2025, 12, 31)),
    ("Quý I/2026", fixed(2026, 3, 31)),
    ("Quý III/2026", fixed(2026, 9, 30)),
    ("QUY IV/2025", fixed(2025, 12, 31)),
    # fixed: half year
    ("6 tháng đầu năm 2026", fixed(2026, 6, 30)),
    ("6 tháng cuối năm 2026", fixed(2026, 12, 31)),
    ("06 tháng đầu năm 2026", fixed(2026, 6, 30)),
    # fixed: a day ("trước ngày X" is read as deadline X)
    ("30/6/2026", fixed(2026, 6, 30)),
    ("30/06/2026", fixed(2026, 6, 30)),
    ("30-6-2026", fixed(2026, 6, 30)),
    ("30.6.2026", fixed(2026, 6, 30)),
    ("ngày 30 tháng 6 năm 2026", fixed(2026, 6, 30)),
    ("Trước ngày 30/6/2026", fixed(2026, 6, 30)),
    ("trước 30/6/2026", fixed(2026, 6, 30)),
    ("Hoàn thành trước ngày 30/6/2026", fixed(2026, 6, 30)),
    ("Chậm nhất ngày 30/6/2026", fixed(2026, 6, 30)),
    ("Chậm nhất là ngày 30/6/2026", fixed(2026, 6, 30)),
    ("Hạn: 30/6/2026", fixed(2026, 6, 30)),
    ("29/2/2024", fixed(2024, 2, 29)),
    # ranges
    ("2025-2030", span(date(2025, 1, 1), date(2030, 12, 31))),
    ("2025 – 2030", span(date(2025, 1, 1), date(2030, 12, 31))),
    ("2025 - 2030", span(date(2025, 1, 1), date(2030, 12, 31))),
    ("2025—2030", span(date(2025, 1, 1), date(2030, 12, 31))),
    ("Giai đoạn 2026 - 2030", span(date(2026, 1, 1), date(2030, 12, 31))),
    ("giai đoạn 2026-2030", span(date(2026, 1, 1), date(2030, 12, 31))),
    ("Từ năm 2026 đến năm 2030", span(date(2026, 1, 1), date(2030, 12, 31))),
    ("2026 đến 2030", span(date(2026, 1, 1), date(2030, 12, 31))),
    ("Tháng 3 - 6/2025", span(date(2025, 3, 1), date(2025, 6, 30))),
    ("Từ tháng 3 đến tháng 6/2025", span(date(2025, 3, 1), date(2025, 6, 30))),
    ("3/2025 - 6/2026", span(date(2025, 3, 1), date(2026, 6, 30))),
    ("Quý I - Quý II/2026", span(date(2026, 1, 1), date(2026, 6, 30))),
    ("Quý IV/2025 - Quý II/2026", span(date(2025, 10, 1), date(2026, 6, 30))),
    # conditional
    ("Sau khi có hướng dẫn của Trung ương", waiting("Trung ương")),
    ("Sau khi có văn bản hướng dẫn của Trung ương", waiting("Trung ương")),
    ("Sau khi có hướng dẫn của UBND tỉnh", waiting("UBND tỉnh")),
    (
        "Sau khi có hướng dẫn của Bộ Thông tin và Truyền thông, Bộ Khoa học và Công nghệ",
        waiting("Bộ Thông tin và Truyền thông, Bộ Khoa học và Công nghệ"),
    ),
    ("Sau khi có hướng dẫn của trung ương", waiting("trung ương")),
    (
        "Sau khi các văn bản Luật, Nghị định được ban hành",
        waiting("các văn bản Luật, Nghị định được ban hành"),
    ),
    ("Theo chỉ đạo của Trung ương", waiting("Trung ương")),
    ("Theo hướng dẫn của Bộ Nội vụ.", waiting("Bộ Nội vụ")),
    ("Chờ hướng dẫn của Bộ Tài chính", waiting("Bộ Tài chính")),
    (
        "Sau khi Thủ tướng Chính phủ ban hành Quyết định",
        waiting("Thủ tướng Chính phủ ban hành Quyết định"),
    ),
    ("Sau khi có hướng dẫn", waiting("hướng dẫn")),
    ("Khi có yêu cầu", waiting("yêu cầu")),
    ("Sau khi có hướng dẫn, trước 30/6/2026", waiting("hướng dẫn")),
    ("Sau khi có hướng dẫn của Bộ Y tế; chậm nhất 30/6/2026", waiting("Bộ Y tế")),
    ("Sau khi cơ quan cấp trên ban hành", waiting("cơ quan cấp trên ban hành")),
    ("Sau khi có hướng dẫn của Trung ương (dự kiến Quý II/2026)", waiting("Trung ương")),
    ("SAU KHI CÓ HƯỚNG DẪN CỦA TRUNG ƯƠNG", waiting("TRUNG ƯƠNG")),
]


@pytest.mark.parametrize(("text", "expected"), FORMS)
def test_supported_form(text: str, expected: dict[str, Any]) -> None:
    assert parsed(text) == expected


NOT_READ = [
    # nothing there
    None,
    "",
    "   ",
    # "when needed": nothing is awaited that could ever release the task
    "Khi cần thiết",
    "khi can thiet",
    "\n\t",
    ".",
    # impossible dates are never clamped
    "13/2025",
    "0/2025",
    "00/2025",
    "31/2/2026",
    "29/2/2025",
    "32/1/2026",
    "0/1/2026",
    "31/4/2026",
    "ngày 31 tháng 6 năm 2026",
    "Tháng 13 năm 2025",
    # implausible years
    "1899",
    "2201",
    "3/1800",
    "30/6/2999",
    "Năm 0000",
    # impossible quarters and halves
    "Quý V/2025",
    "Quý 0/2025",
    "Quý 5/2025",
    "Quý IIII/2025",
    "6 tháng đầu năm",
    # ranges that end where they start, or before
    "2030-2025",
    "2025-2025",
    "Tháng 6 - 3/2025",
    "Tháng 3 - 3/2025",
    "Quý II - Quý II/2026",
    "Quý III - Quý I/2026",
    "2026-2030 và những năm tiếp theo",
    # impossible recurring anchors
    "Trước ngày 31/2 hằng năm",
    "Trước ngày 29/2 hằng năm",
    "Trước ngày 0/4 hằng năm",
    "Trước ngày 15/13 hằng năm",
    "Trước ngày 32 hằng tháng",
    "Trước ngày 0 hằng tháng",
    "Trước ngày 15 hằng năm",
    # ambiguous or unsupported
    "Hằng ngày",
    "Hằng tuần",
    "trước tháng 6/2026",
    "Trước năm 2026",
    "Đầu năm 2026",
    "Sau ngày 30/6/2026",
    "Từ năm 2026",
    "Quý II",
    "Tháng 6",
    "30/6",
    "2025-03",
    "20255",
    "3/2025/",
    "Thường xuyên hằng năm",
    "Theo quy định",
    "Theo kế hoạch",
    "Sau khi",
    "Trong vòng 30 ngày sau khi có hướng dẫn",
    "Đẩy mạnh tuyên truyền, quán triệt thường xuyên, sâu rộng nội dung Nghị quyết số 57-NQ/TW",
]


@pytest.mark.parametrize("text", NOT_READ)
def test_not_read_is_unknown(text: str | None) -> None:
    timing = parse_timing(text)
    assert parsed(text) == UNKNOWN_TIMING
    assert timing.raw == (text or "")


def test_raw_is_the_input_exactly() -> None:
    for text in [*SEED_TEXTS, "  Quý II/2026 \n", "Thường xuyên."]:
        assert parse_timing(text).raw == text
    assert parse_timing(None).raw == ""


def test_enums_are_strings() -> None:
    assert parse_timing("Hằng quý").frequency == "quarterly"
    assert parse_timing("2025").kind == "fixed"


def test_timing_is_immutable() -> None:
    timing = parse_timing("2025")
    with pytest.raises(AttributeError):
        timing.deadline = None  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# 4. Properties
# ---------------------------------------------------------------------------------------------

WORDS = [
    "quý", "Quý", "tháng", "Tháng", "năm", "Năm", "trước", "Trước", "ngày", "hằng", "hàng",
    "Hằng", "mỗi", "II", "IV", "I", "V", "đầu", "cuối", "giai đoạn", "từ", "đến", "sau khi",
    "Sau khi có", "hướng dẫn", "của", "Trung ương", "thường xuyên", "định kỳ", "lần", "T",
    "chậm nhất", "hoặc đột xuất", "theo chỉ đạo", "và", "/", "-", "–", ".", ",", ";", ":", " ",
    " ", "\n",
]  # fmt: skip
vietnamese_ish = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.integers(min_value=0, max_value=3000).map(str),
        st.sampled_from(["0", "00", "02", "06", "12", "29", "30", "31", "1899", "2025", "2200"]),
    ),
    max_size=14,
).map("".join)
any_text = st.one_of(st.text(), vietnamese_ish, st.none())


def _check_invariants(text: str | None) -> Timing:
    timing = parse_timing(text)
    assert isinstance(timing, Timing)
    assert timing.raw == (text or "")
    assert (timing.deadline is not None) == (timing.kind in (FIXED, RANGE))
    assert (timing.start is not None) == (timing.kind is RANGE)
    assert (timing.frequency is not None) == (timing.kind is RECURRING)
    assert (timing.trigger is not None) == (timing.kind is CONDITIONAL)
    if timing.anchor_month is not None:
        assert timing.frequency is ANNUAL and timing.anchor_day is not None
    if timing.kind is RANGE:
        assert timing.start < timing.deadline
    if timing.deadline is not None:
        assert text is not None and str(timing.deadline.year) in text
        assert MIN_YEAR <= timing.deadline.year <= MAX_YEAR
    return timing


@given(any_text)
@settings(max_examples=500)
def test_never_raises_and_never_invents_a_date(text: str | None) -> None:
    _check_invariants(text)


@given(vietnamese_ish)
@settings(max_examples=1000)
def test_vietnamese_ish_text_keeps_the_invariants(text: str) -> None:
    _check_invariants(text)


years = st.integers(min_value=MIN_YEAR, max_value=MAX_YEAR)
months = st.integers(min_value=1, max_value=12)


@given(st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31)))
def test_round_trip_day(day: date) -> None:
    for text in (
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}-{day.month}-{day.year}",
        f"ngày {day.day} tháng {day.month} năm {day.year}",
        f"Trước ngày {day.day}/{day.month}/{day.year}",
    ):
        assert parsed(text) == expect(FIXED, deadline=day), text


@given(years, months)
def test_round_trip_month(year: int, month: int) -> None:
    last = date(year, month, calendar.monthrange(year, month)[1])
    for text in (f"{month}/{year}", f"{month:02d}/{year}", f"Tháng {month}/{year}"):
        assert parsed(text) == expect(FIXED, deadline=last), text


@given(years, st.integers(min_value=1, max_value=4))
def test_round_trip_quarter(year: int, quarter: int) -> None:
    last = date(year, 3 * quarter, calendar.monthrange(year, 3 * quarter)[1])
    for text in (f"Quý {ROMAN[quarter]}/{year}", f"Quý {quarter}/{year}"):
        assert parsed(text) == expect(FIXED, deadline=last), text


@given(years, st.integers(min_value=1, max_value=20))
def test_round_trip_year_range(first: int, length: int) -> None:
    last = first + length
    expected = span(date(first, 1, 1), date(last, 12, 31)) if last <= MAX_YEAR else UNKNOWN_TIMING
    assert parsed(f"Giai đoạn {first} - {last}") == expected


@given(years, st.integers(min_value=13, max_value=99))
def test_invalid_month_is_unknown(year: int, month: int) -> None:
    assert parsed(f"{month}/{year}") == UNKNOWN_TIMING
    assert parsed(f"Tháng {month}/{year}") == UNKNOWN_TIMING
    assert parsed(f"1/{month}/{year}") == UNKNOWN_TIMING


@given(st.integers(min_value=1, max_value=31), months)
def test_round_trip_annual_anchor(day: int, month: int) -> None:
    real = day <= calendar.monthrange(2001, month)[1]
    expected = every(ANNUAL, day, month) if real else UNKNOWN_TIMING
    assert parsed(f"Trước ngày {day}/{month} hằng năm") == expected
    assert parsed(f"trước ngày {day} tháng {month} hằng năm") == expected


def _messy(text: str, data: st.DataObject) -> str:
    if data.draw(st.booleans(), label="strip diacritics"):
        text = strip_diacritics(text)
    case = data.draw(st.sampled_from([str, str.upper, str.lower, str.title]), label="case")
    gaps = data.draw(st.lists(st.sampled_from([" ", "  ", "\n", " \n", "\t"]), min_size=1))
    words = case(text).split()
    return "".join(word + gaps[i % len(gaps)] for i, word in enumerate(words))


@given(st.sampled_from(SEED_PHRASES + FORMS), st.data())
def test_insensitive_to_case_diacritics_and_whitespace(
    phrase: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    text, expected = phrase
    timing = parse_timing(_messy(text, data))
    assert timing.kind is expected["kind"]
    assert timing.deadline == expected["deadline"]
    assert timing.start == expected["start"]
    assert timing.frequency == expected["frequency"]
    assert (timing.anchor_day, timing.anchor_month) == (
        expected["anchor_day"],
        expected["anchor_month"],
    )
    if expected["trigger"] is not None:
        assert fold_words(timing.trigger) == fold_words(expected["trigger"])


def fold_words(text: str | None) -> list[str]:
    return strip_diacritics(text or "").lower().split()
