"""Every label of the pages is translated: the catalogues hold each message the code uses."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.paths import REPO_ROOT

WEB = REPO_ROOT / "app" / "web"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "N_": None}


def _used() -> set[str]:
    return {
        str(message)
        for _, _, message, _, _ in extract_from_dir(
            str(WEB), method_map=METHODS, keywords=KEYWORDS, comment_tags=()
        )
    }


def _catalogue(language: str) -> dict[str, str]:
    with (WEB / "locale" / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return {str(m.id): str(m.string) for m in read_po(source) if m.id}


def test_the_pages_use_many_messages() -> None:
    used = _used()
    assert "Sign in" in used and "Not found." in used  # templates and Python both read
    assert len(used) > 80


def test_every_message_has_a_german_and_an_english_entry() -> None:
    used = _used()
    for language in ("de", "en"):
        catalogue = _catalogue(language)
        missing = sorted(m for m in used if not catalogue.get(m))
        assert missing == [], f"{language}: untranslated {missing}"
    german = _catalogue("de")
    assert german["Sign in"] == "Anmelden"
