"""Keep the translation catalogs in step with the code.

    python tools/i18n.py          # extract, update catalogs, compile
    python tools/i18n.py --check  # fail if a string is not extracted, translated or compiled

Source strings are English, from the web app and from the engine's messages (marked ``N_`` in
``workflow``); Vietnamese (the default language) is in
web/translations/vi/LC_MESSAGES/messages.po. The compiled .mo files are committed so that an
installation needs no build step; tests/test_translations.py runs --check.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"
LANGUAGES = ("vi", "en")


def _extract_to(pot: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "N_",  # the engine's messages (workflow.messages), translated by the web app
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(pot),
            "web",
            "workflow",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def extract() -> None:
    """Write every marked string of the code to messages.pot and update the catalogs."""
    _extract_to(TRANSLATIONS / "messages.pot")
    for lang in LANGUAGES:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "update",
                "--no-fuzzy-matching",
                "-i",
                str(TRANSLATIONS / "messages.pot"),
                "-d",
                str(TRANSLATIONS),
                "-l",
                lang,
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )


def not_extracted() -> list[str]:
    """Strings marked in the code that the Vietnamese catalog does not hold yet."""
    with tempfile.TemporaryDirectory() as folder:
        pot = Path(folder) / "messages.pot"
        _extract_to(pot)
        with open(pot, "rb") as handle:
            marked = {m.id for m in read_po(handle) if m.id}
    with open(TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        held = {m.id for m in read_po(handle, locale="vi") if m.id}
    return sorted(str(i) for i in marked - held)


def compiled(lang: str) -> bytes:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=lang)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _translated(string: str | tuple) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def problems() -> list[str]:
    found = []
    with open(TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale="vi")
    missing = [m.id for m in catalog if m.id and not _translated(m.string)]
    found += [f"vi: not translated: {m!r}" for m in missing]
    found += [f"not extracted (run python tools/i18n.py): {m!r}" for m in not_extracted()]
    for lang in LANGUAGES:
        mo = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"
        if not mo.exists() or mo.read_bytes() != compiled(lang):
            found.append(f"{lang}: messages.mo is not compiled from messages.po")
    return found


def main() -> int:
    if "--check" not in sys.argv:
        extract()
        for lang in LANGUAGES:
            (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").write_bytes(compiled(lang))
    found = problems()
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
