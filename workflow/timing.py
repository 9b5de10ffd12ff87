"""Read the free-text "completion time" cell of a plan task into a :class:`Timing`.

The cell is written by people and then mangled by PDF/OCR extraction, so the text is first
normalised with :func:`workflow.text.clean` (NFC, ASCII dashes, one space for any whitespace)
and every pattern is matched on the :func:`workflow.text.fold` form (lower case, no
diacritics): "Thường \\nxuyên", "THUONG XUYEN" and "thuong xuyen." read the same. Trailing
punctuation (".", ";", ":", ",", "./.") and leading bullets are ignored.

Reading rules
-------------
* **fixed** - one deadline, the *last* day of the period named: "3/2025", "Tháng 3/2025",
  "T3/2025", "03-2025" -> 31 March 2025; "2025", "Năm 2025", "Cuối năm 2025", "Đến năm 2030"
  -> 31 December; "Quý II/2026", "Quý 2 năm 2026" -> 30 June 2026; "6 tháng đầu năm 2026" ->
  30 June 2026; "6 tháng cuối năm 2026" -> 31 December 2026; or the date itself: "30/6/2026",
  "ngày 30 tháng 6 năm 2026".
* **"trước ngày X" is read as deadline X.** Plans say "before the 30th" meaning "by the 30th";
  the deadline is always a date written in the text, never one computed from it. "Trước" is only
  accepted in front of a day: "trước tháng 6/2026" could mean 31 May or 30 June, so it is unknown.
* **range** - "2025-2030", "Giai đoạn 2026 - 2030", "Từ năm 2026 đến năm 2030", "Tháng 3 -
  6/2025", "Quý I - Quý II/2026": ``start`` is the first day of the first period, ``deadline``
  the last day of the last one. A range that ends where it starts, or before, is unknown.
* **ongoing** - "Thường xuyên", "Nhiệm vụ thường xuyên", "Thường xuyên, liên tục".
* **recurring** - "Hằng năm"/"Hàng năm"/"Mỗi năm"/"Định kỳ hằng năm", "Hằng quý", "Hằng
  tháng", "6 tháng/lần", "Định kỳ 6 tháng"... with the day when one is stated: "Trước ngày 12
  tháng 4 hằng năm", "trước 25/3 hằng năm" (annual, anchor day and month); "Trước ngày 14 hằng
  tháng" (monthly, anchor day). A list of periods ("hằng tháng, quý, 06 tháng, năm") means the
  finest one. An anchor that is not a real day of every year (31/2, 29/2, 0/4, day 32) is
  unknown, and so is a day without a month for an annual task.
* **conditional** - text that starts by waiting for something: "Sau khi ...", "Khi có ...",
  "Theo chỉ đạo/hướng dẫn của ...", "Chờ hướng dẫn ...". ``trigger`` is who or what is awaited,
  cut from the original text: the issuer after "của" when a guidance document is awaited ("Sau
  khi có văn bản hướng dẫn của Trung ương" -> "Trung ương"), otherwise the awaited event ("Sau
  khi Thủ tướng Chính phủ ban hành Quyết định"). A date written after the condition ("..., trước
  30/6/2026") is not a deadline: the task is conditional and has none.
* **unknown** - anything else. Every pattern must match the *whole* text, so extra words
  ("2026-2030 và những năm tiếp theo") make it unknown: a wrong deadline is worse than none.

OCR without diacritics (seed 004) also garbles a few words; the garbled spellings seen in real
input ("hing nim", "ndm", "trude", "thudng") are mapped back before matching.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from workflow.text import clean, fold


class TimingKind(StrEnum):
    FIXED = "fixed"
    RANGE = "range"
    ONGOING = "ongoing"
    RECURRING = "recurring"
    CONDITIONAL = "conditional"
    UNKNOWN = "unknown"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"


@dataclass(frozen=True)
class Timing:
    kind: TimingKind
    raw: str
    deadline: date | None = None
    start: date | None = None
    frequency: Frequency | None = None
    anchor_day: int | None = None
    anchor_month: int | None = None
    trigger: str | None = None


MIN_YEAR = 1900
MAX_YEAR = 2200

_FLAGS = re.ASCII  # only ASCII digits: int() of other Unicode digits would invent a year

# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

_BULLETS = " -+*•·"
_END_PUNCTUATION = " .;:,!"
# Separators lose the spaces around them (a comma keeps one after it) ...
_SEPARATORS = {"/": "/", "-": "-", ",": ", ", ":": " "}
# ... and the garbled spellings OCR made of a few timing words (seed 004) are put right.
_OCR_WORDS = {
    "hing": "hang",
    "ndm": "nam",
    "nim": "nam",
    "thudng": "thuong",
    "trude": "truoc",
    "trudce": "truoc",
}
_REWRITE = re.compile(
    r" ?(?P<separator>[/,:-]) ?|\b(?P<ocr>" + "|".join(_OCR_WORDS) + r")\b", _FLAGS
)


def _trim(text: str) -> str:
    """Drop leading bullets and trailing punctuation (including a closing "./.")."""
    text = text.lstrip(_BULLETS).rstrip(_END_PUNCTUATION)
    while text.endswith("./"):
        text = text[:-1].rstrip(_END_PUNCTUATION)
    return text


@lru_cache(maxsize=4096)
def _fold_word(word: str) -> str:
    return fold(word)


def _fold_words(cleaned: str) -> str:
    """``fold(cleaned)``, word by word through a cache: a plan repeats the same few words."""
    if cleaned.isascii():
        return cleaned.lower()
    return " ".join(map(_fold_word, cleaned.split(" ")))


def _canonical(folded: str) -> str:
    """The folded text in the one spelling the patterns are written for.

    Not length-preserving: only used where nothing is cut back from the original.
    """
    return _REWRITE.sub(_rewrite, folded).strip()


def _rewrite(match: re.Match[str]) -> str:
    separator = match["separator"]
    return _SEPARATORS[separator] if separator else _OCR_WORDS[match["ocr"]]


# ---------------------------------------------------------------------------------------------
# Calendar helpers: every one returns None for an impossible value, never a clamped one
# ---------------------------------------------------------------------------------------------

_ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: not leap


def _year(token: str) -> int | None:
    year = int(token) if token.isdigit() else 0
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def _quarter(token: str) -> int | None:
    number = _ROMAN_QUARTERS.get(token) or (int(token) if token.isdigit() else 0)
    return number if 1 <= number <= 4 else None


def _day(year_token: str, month_token: str, day_token: str) -> date | None:
    year = _year(year_token)
    if year is None:
        return None
    try:
        return date(year, int(month_token), int(day_token))
    except ValueError:
        return None


def _month_start(year: int | None, month: int | None) -> date | None:
    if year is None or month is None or not 1 <= month <= 12:
        return None
    return date(year, month, 1)


def _month_end(year: int | None, month: int | None) -> date | None:
    if year is None or month is None or not 1 <= month <= 12:
        return None
    leap_day = month == 2 and calendar.isleap(year)
    return date(year, month, _DAYS_IN_MONTH[month] + leap_day)


def _quarter_start(year: int | None, quarter: int | None) -> date | None:
    return None if quarter is None else _month_start(year, 3 * quarter - 2)


def _quarter_end(year: int | None, quarter: int | None) -> date | None:
    return None if quarter is None else _month_end(year, 3 * quarter)


def _is_day_of_every_year(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month]


# ---------------------------------------------------------------------------------------------
# Pattern pieces (on canonical folded text)
# ---------------------------------------------------------------------------------------------

_D = r"[0-9]{1,2}"
_Y = r"[0-9]{4}"
_Q = r"[ivx]+|[0-9]{1,2}"
_PERIOD = r"0?6 thang|nua nam|0?3 thang|thang|quy|nam"
_EACH = r"(?:hang|moi)"
_PERIOD_LIST = rf"{_EACH} (?:{_PERIOD})(?:(?:, | va | hoac |, va )(?:{_EACH} )?(?:{_PERIOD}))*"
_PERIOD_WORD = re.compile(rf"\b(?:{_PERIOD})\b", _FLAGS)


def _words(*words: str) -> str:
    """One of ``words``, followed by a space."""
    return "(?:(?:" + "|".join(words) + ") )"


# "by": "hoàn thành", "chậm nhất là", "hạn chót", "đến hết", "trong", "vào"...
_BY = (
    *("hoan thanh", "thuc hien", "xong", "cham nhat", "la", "han chot", "han"),
    *("den", "het", "trong", "vao"),
)
# "trước" is allowed in front of a day only (see the module docstring).
_DAY_PREFIX = _words(*_BY, "truoc") + "{0,4}(?:ngay )?"
_PERIOD_PREFIX = _words(*_BY, "cuoi") + "{0,4}"
_ANCHOR_PREFIX = _words("dinh ky", "bao cao", "gui", *_BY, "truoc") + "{0,4}(?:ngay )?"
_RECURRING_TAIL = r"(?: theo quy dinh)?(?:,? \(?hoac dot xuat\b.*)?"
_RANGE_PREFIX = r"(?:(?:trong|ca|giai doan|tu|nam|cac nam) ){0,3}"
_TO = r"(?:-| den (?:het )?| toi )"

# ---------------------------------------------------------------------------------------------
# Builders: one per pattern, from a full match to a Timing (None = impossible value -> unknown)
# ---------------------------------------------------------------------------------------------

_FREQUENCIES = {
    "thang": Frequency.MONTHLY,
    "quy": Frequency.QUARTERLY,
    "3 thang": Frequency.QUARTERLY,
    "03 thang": Frequency.QUARTERLY,
    "6 thang": Frequency.SEMIANNUAL,
    "06 thang": Frequency.SEMIANNUAL,
    "nua nam": Frequency.SEMIANNUAL,
    "nam": Frequency.ANNUAL,
}
_FINEST_FIRST = list(Frequency)

Builder = Callable[[re.Match[str], str], Timing | None]


def _finest(periods: str) -> Frequency:
    found = {_FREQUENCIES[word] for word in _PERIOD_WORD.findall(periods)}
    return min(found, key=_FINEST_FIRST.index)


def _fixed(raw: str, deadline: date | None) -> Timing | None:
    return None if deadline is None else Timing(TimingKind.FIXED, raw, deadline=deadline)


def _range(
    raw: str, start: date | None, last_start: date | None, end: date | None
) -> Timing | None:
    """A range from ``start`` to ``end``; its last period must begin after its first one."""
    if start is None or last_start is None or end is None or last_start <= start:
        return None
    return Timing(TimingKind.RANGE, raw, deadline=end, start=start)


def _build_date(m: re.Match[str], raw: str) -> Timing | None:
    return _fixed(raw, _day(m["y"], m["m"], m["d"]))


def _build_month(m: re.Match[str], raw: str) -> Timing | None:
    return _fixed(raw, _month_end(_year(m["y"]), int(m["m"])))


def _build_quarter(m: re.Match[str], raw: str) -> Timing | None:
    return _fixed(raw, _quarter_end(_year(m["y"]), _quarter(m["q"])))


def _build_half(m: re.Match[str], raw: str) -> Timing | None:
    return _fixed(raw, _month_end(_year(m["y"]), 6 if m["half"] == "dau" else 12))


def _build_year(m: re.Match[str], raw: str) -> Timing | None:
    return _fixed(raw, _month_end(_year(m["y"]), 12))


def _build_year_range(m: re.Match[str], raw: str) -> Timing | None:
    first_year, last_year = _year(m["y1"]), _year(m["y2"])
    start, last_start = _month_start(first_year, 1), _month_start(last_year, 1)
    return _range(raw, start, last_start, _month_end(last_year, 12))


def _range_years(m: re.Match[str]) -> tuple[int | None, int | None]:
    """First and last year of a range: "y1"/"y2", or the single "y" both share."""
    groups = m.groupdict()
    shared = groups.get("y")
    return _year(groups.get("y1") or shared or ""), _year(groups.get("y2") or shared or "")


def _build_month_range(m: re.Match[str], raw: str) -> Timing | None:
    first_year, last_year = _range_years(m)
    first, last = int(m["m1"]), int(m["m2"])
    start, last_start = _month_start(first_year, first), _month_start(last_year, last)
    return _range(raw, start, last_start, _month_end(last_year, last))


def _build_quarter_range(m: re.Match[str], raw: str) -> Timing | None:
    first_year, last_year = _range_years(m)
    first, last = _quarter(m["q1"]), _quarter(m["q2"])
    start, last_start = _quarter_start(first_year, first), _quarter_start(last_year, last)
    return _range(raw, start, last_start, _quarter_end(last_year, last))


def _build_ongoing(m: re.Match[str], raw: str) -> Timing | None:
    return Timing(TimingKind.ONGOING, raw)


def _build_recurring(m: re.Match[str], raw: str) -> Timing | None:
    return Timing(TimingKind.RECURRING, raw, frequency=_finest(m["periods"]))


def _build_annual_anchor(m: re.Match[str], raw: str) -> Timing | None:
    day, month = int(m["d"]), int(m["m"])
    if not _is_day_of_every_year(day, month):
        return None
    return Timing(
        TimingKind.RECURRING, raw, frequency=Frequency.ANNUAL, anchor_day=day, anchor_month=month
    )


def _build_day_anchor(m: re.Match[str], raw: str) -> Timing | None:
    day, frequency = int(m["d"]), _finest(m["periods"])
    if not 1 <= day <= 31 or frequency is Frequency.ANNUAL:
        return None
    return Timing(TimingKind.RECURRING, raw, frequency=frequency, anchor_day=day)


# ---------------------------------------------------------------------------------------------
# The table: in order, the first pattern matching the WHOLE canonical text decides
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    build: Builder


def _rule(pattern: str, build: Builder) -> _Rule:
    return _Rule(re.compile(pattern, _FLAGS), build)


_ONGOING_WORD = r"(?:thuong xuyen|lien tuc)"
_DIGIT = re.compile(r"[0-9]")

# Tried for every text.
_WORD_RULES: tuple[_Rule, ...] = (
    # ongoing: "Thường xuyên", "Nhiệm vụ thường xuyên", "Thường xuyên, liên tục"
    _rule(
        rf"(?:(?:nhiem vu|thuc hien|trien khai) )?{_ONGOING_WORD}"
        rf"(?:(?:, | va |, va ){_ONGOING_WORD})?",
        _build_ongoing,
    ),
    # recurring: "Hằng năm", "Định kỳ hằng quý", "Hằng 6 tháng", "6 tháng/lần", "Định kỳ 6 tháng"
    _rule(rf"(?:dinh ky )?(?P<periods>{_PERIOD_LIST}){_RECURRING_TAIL}", _build_recurring),
    _rule(rf"(?:dinh ky )?(?:(?:0?1|mot) )?(?P<periods>{_PERIOD})(?:/| mot )lan", _build_recurring),
    _rule(rf"dinh ky (?P<periods>{_PERIOD})", _build_recurring),
)

# Tried only for a text with a digit in it.
_NUMBER_RULES: tuple[_Rule, ...] = (
    # a day: "30/6/2026", "30-6-2026", "Trước ngày 30/6/2026", "ngày 30 tháng 6 năm 2026"
    _rule(rf"{_DAY_PREFIX}(?P<d>{_D})(?P<sep>[/.-])(?P<m>{_D})(?P=sep)(?P<y>{_Y})", _build_date),
    _rule(rf"{_DAY_PREFIX}(?P<d>{_D}) thang (?P<m>{_D}),? nam (?P<y>{_Y})", _build_date),
    # a period: "6 tháng đầu năm 2026", "Quý II/2026", "Tháng 3/2025", "T3/2025", "Năm 2025"
    _rule(rf"{_PERIOD_PREFIX}(?:0?6 thang|nua) (?P<half>dau|cuoi) nam (?P<y>{_Y})", _build_half),
    _rule(rf"{_PERIOD_PREFIX}(?:quy |q)(?P<q>{_Q})(?:[/-]| nam | )(?P<y>{_Y})", _build_quarter),
    _rule(rf"{_PERIOD_PREFIX}(?:thang |t)?(?P<m>{_D})[/-](?P<y>{_Y})", _build_month),
    _rule(rf"{_PERIOD_PREFIX}thang (?P<m>{_D}),? nam (?P<y>{_Y})", _build_month),
    _rule(rf"{_PERIOD_PREFIX}(?:nam )?(?P<y>{_Y})", _build_year),
    # ranges: "2025-2030", "Giai đoạn 2026 - 2030", "Từ năm 2026 đến năm 2030"
    _rule(rf"{_RANGE_PREFIX}(?P<y1>{_Y}){_TO}(?:nam )?(?P<y2>{_Y})", _build_year_range),
    # "Tháng 3 - 6/2025", "3/2025 - 6/2026"
    _rule(
        rf"(?:tu )?thang (?P<m1>{_D}){_TO}(?:thang )?(?P<m2>{_D})(?:/| nam )(?P<y>{_Y})",
        _build_month_range,
    ),
    _rule(
        rf"(?:tu )?(?:thang )?(?P<m1>{_D})/(?P<y1>{_Y}){_TO}(?:thang )?(?P<m2>{_D})/(?P<y2>{_Y})",
        _build_month_range,
    ),
    # "Quý I - Quý II/2026", "Quý IV/2025 - Quý II/2026"
    _rule(
        rf"(?:tu )?quy (?P<q1>{_Q}){_TO}(?:quy )?(?P<q2>{_Q})(?:/| nam )(?P<y>{_Y})",
        _build_quarter_range,
    ),
    _rule(
        rf"(?:tu )?quy (?P<q1>{_Q})/(?P<y1>{_Y}){_TO}quy (?P<q2>{_Q})/(?P<y2>{_Y})",
        _build_quarter_range,
    ),
    # recurring with an anchor: "Trước ngày 12 tháng 4 hằng năm", "trước 25/3 hằng năm"
    _rule(
        rf"{_ANCHOR_PREFIX}(?P<d>{_D})(?:/| thang )(?P<m>{_D}) {_EACH} nam{_RECURRING_TAIL}",
        _build_annual_anchor,
    ),
    _rule(
        rf"(?:dinh ky )?{_EACH} nam, {_ANCHOR_PREFIX}(?P<d>{_D})(?:/| thang )(?P<m>{_D})",
        _build_annual_anchor,
    ),
    # "Trước ngày 14 hằng tháng", "trước ngày 15 hằng tháng, quý, 06 tháng, năm"
    _rule(
        rf"{_ANCHOR_PREFIX}(?P<d>{_D}) (?P<periods>{_PERIOD_LIST}){_RECURRING_TAIL}",
        _build_day_anchor,
    ),
    _rule(
        rf"(?:dinh ky )?(?P<periods>{_PERIOD_LIST}), {_ANCHOR_PREFIX}(?P<d>{_D})",
        _build_day_anchor,
    ),
)

_ALL_RULES = _WORD_RULES + _NUMBER_RULES

# ---------------------------------------------------------------------------------------------
# Conditional tasks. Matched on the folded text itself (same length as the cleaned original),
# so the trigger's span can be cut from the original with its diacritics and case.
# ---------------------------------------------------------------------------------------------

_CONDITION_LEAD = r"(?:(?:thuc hien|trien khai|hoan thanh|ban hanh|to chuc) )?(?:ngay )?"
_DOCUMENT = r"(?:van ban|huong dan|chi dao|y kien|quyet dinh|ke hoach|thong bao|yeu cau)"
_GUIDANCE = r"(?:van ban|huong dan|chi dao|y kien|yeu cau)"  # "theo kế hoạch" = per the plan
_ISSUER = r"(?: (?:cua|tu) (?P<issuer>.+))?"
# "có" folds like "cơ" (cơ quan, cơ sở, cơ chế): keep those words in the awaited event.
_HAVE = r"(?: (?:co|nhan duoc)(?! (?:quan|so|che|cau)\b))?"

_CONDITIONS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, _FLAGS)
    for pattern in (
        # "Sau khi có (văn bản) hướng dẫn (của Trung ương)"
        rf"{_CONDITION_LEAD}(?:sau khi|khi) (?:co|nhan duoc) "
        rf"(?P<document>(?:cac )?(?:{_DOCUMENT} )*?{_DOCUMENT}){_ISSUER}",
        # "Theo chỉ đạo (của Trung ương)", "Chờ hướng dẫn (của Bộ)"
        rf"{_CONDITION_LEAD}(?:theo(?: su)?|cho(?: co)?) "
        rf"(?P<document>(?:{_GUIDANCE} )*?{_GUIDANCE}){_ISSUER}",
        # "Sau khi Thủ tướng Chính phủ ban hành Quyết định", "Sau khi các văn bản ... ban hành";
        # not "Khi cần thiết" (when needed): nothing is awaited, so nothing could release it
        rf"{_CONDITION_LEAD}(?:sau khi|khi){_HAVE} (?!can thiet\b)(?P<event>.+)",
    )
)
_CONDITION_START = re.compile(rf"{_CONDITION_LEAD}(?:sau khi|khi|theo|cho) ", _FLAGS)
# Where the awaited thing ends: "(...)", ", trước 30/6/2026", "; năm 2026", " chậm nhất ..."
_CONDITION_TAIL = re.compile(
    r"\s*\(|(?:\s*[,;]|\s+-)\s*(?=(?:truoc|cham nhat|thoi han|han|trong|hoan thanh|den|ngay"
    r"|thang|quy|nam)\b|[0-9])|\s+(?=(?:truoc|cham nhat|thoi han|han chot)\b)",
    _FLAGS,
)


def _conditional(cleaned: str, folded: str, raw: str) -> Timing | None:
    """A conditional Timing if the text starts by waiting for something, else None."""
    if not _CONDITION_START.match(folded):
        return None
    tail = _CONDITION_TAIL.search(folded)
    head = folded[: tail.start()] if tail else folded
    for pattern in _CONDITIONS:
        match = pattern.fullmatch(head)
        if match is None:
            continue
        group = next(
            name for name in ("issuer", "event", "document") if match.groupdict().get(name)
        )
        trigger = _trim(cleaned[match.start(group) : match.end(group)])
        return Timing(TimingKind.CONDITIONAL, raw, trigger=trigger) if trigger else None
    return None


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

_CACHE_SIZE = 8192


def parse_timing(text: str | None) -> Timing:
    """Parse one timing cell. Never raises; anything not read with certainty is UNKNOWN."""
    return _parse(text or "")


@lru_cache(maxsize=_CACHE_SIZE)
def _parse(raw: str) -> Timing:
    cleaned = _trim(clean(raw))
    folded = _fold_words(cleaned)
    found = _conditional(cleaned, folded, raw)
    if found is None:
        found = _match_rules(_canonical(folded), raw)
    return found or Timing(TimingKind.UNKNOWN, raw)


def _match_rules(canonical: str, raw: str) -> Timing | None:
    rules = _ALL_RULES if _DIGIT.search(canonical) else _WORD_RULES
    for rule in rules:
        match = rule.pattern.fullmatch(canonical)
        if match is not None:
            return rule.build(match, raw)
    return None
