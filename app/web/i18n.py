"""German and English: catalogues read from the .po files, the language of a request, dates."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "stellwerk_lang"
LOCALE_DIR = Path(__file__).parent / "locale"


def load_translations(locale_dir: Path = LOCALE_DIR) -> dict[str, NullTranslations]:
    """One catalogue per language, compiled in memory from its .po file (no .mo to keep in
    step); English is the source language, so a missing English entry shows the msgid."""
    catalogues: dict[str, NullTranslations] = {}
    for language in LANGUAGES:
        po = locale_dir / language / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            catalogues[language] = NullTranslations()
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        catalogues[language] = Translations(compiled)
    return catalogues


def _accepted(header: str) -> list[tuple[float, str]]:
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        # Earlier entries win ties, as the header lists them by preference.
        ranked.append((quality - position * 1e-6, tag.strip().lower()))
    return sorted(ranked, reverse=True)


def language_of(request: Request) -> str:
    """The person's choice (the language switch's cookie), else Accept-Language, else English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for quality, tag in _accepted(request.headers.get("accept-language", "")):
        primary = tag.split("-")[0]
        if quality > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def local_date(value: date | None, language: str) -> str:
    """A date as the language writes it (31.03.2027 / Mar 31, 2027)."""
    if value is None:
        return ""
    return str(format_date(value, format="medium", locale=language))


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Marks a message in Python for the catalogue; it is translated where it is shown."""
    return message
