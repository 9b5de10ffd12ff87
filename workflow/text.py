"""Text normalisation shared by every parser: timing phrases, unit names, headers.

Real input comes from PDF and OCR extraction: line breaks inside cells, stray spaces,
missing diacritics, upper case, en dashes. Matching is done on a *folded* form while the
original text is always kept for display and for anything we extract from it.
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
# Characters no XML document can hold (Word, Excel, calendars): a pasted form feed or bell
# would make the consolidated report impossible to write.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-"})
_JOINED_PUNCTUATION = re.compile(r"[&.'’]")
_OTHER_PUNCTUATION = re.compile(r"[^0-9a-z]+")


def clean(text: str | None) -> str:
    """NFC, dashes made ASCII, every run of whitespace (newlines included) one space, without
    control characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).translate(_DASHES)
    return _CONTROL.sub("", _WHITESPACE.sub(" ", text)).strip()


def plain_text(text: str | None) -> str:
    """Free text as people write it (a report, a reason, a note): NFC, its lines and tabs
    kept, without the control characters no document can hold, stripped."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\x0b", "\n").replace("\x0c", "\n")
    return _CONTROL.sub("", text).strip()


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", char)[0]
    lowered = base.lower()
    return lowered if len(lowered) == 1 else base


def fold(text: str) -> str:
    """Lower-case and strip diacritics one character for one character.

    The result has exactly the length of the input, so a position found in the folded
    text points at the same place in the original (used to extract trigger issuers with
    their diacritics intact).
    """
    return "".join(_fold_char(c) for c in text)


def fold_key(text: str | None) -> str:
    """A comparison key for names: folded, ``&`` and ``.`` dropped, other punctuation a space.

    "Phòng Quản lý KH&CN", "Phòng Quản lý KHCN" and "PHONG QUAN LY KHCN" share one key.
    """
    folded = fold(clean(text))
    folded = _JOINED_PUNCTUATION.sub("", folded)
    return _OTHER_PUNCTUATION.sub(" ", folded).strip()
