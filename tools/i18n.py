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
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"
LANGUAGES = ("vi", "en")


def extract() -> None:
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
            str(TRANSLATIONS / "messages.pot"),
            "web",
            "workflow",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
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


def compiled(lang: str) -> bytes:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=lang)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def problems() -> list[str]:
    found = []
    with open(TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale="vi")
    missing = [m.id for m in catalog if m.id and not m.string]
    found += [f"vi: not translated: {m!r}" for m in missing]
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
    for problem in problems():
        print(problem)
    return 1 if problems() else 0


if __name__ == "__main__":
    sys.exit(main())
