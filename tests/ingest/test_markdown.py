"""Front matter validation and heading sections."""

from __future__ import annotations

import pytest

from ingest.errors import InvalidArticle
from ingest.markdown import anchor_for, parse_article
from tests.factories import article_markdown


def test_sections_carry_their_heading_path_and_anchor() -> None:
    source = article_markdown(
        "Outlook startet nicht",
        """
# Outlook startet nicht

Einleitung.

## Lösung
### Schritt 1: Abgesicherter Modus
`outlook.exe /safe` ausführen.

| Fehler | Ursache |
|---|---|
| 0x80070005 | Rechte |
""",
        language="de",
    )
    article = parse_article("outlook-startet-nicht", source)
    paths = [s.heading_path for s in article.sections]
    assert paths == [
        ("Outlook startet nicht",),
        ("Outlook startet nicht", "Lösung", "Schritt 1: Abgesicherter Modus"),
    ]
    step = article.sections[1]
    assert step.anchor == "schritt-1-abgesicherter-modus"
    assert "outlook.exe /safe ausführen." in step.blocks
    assert "0x80070005 | Rechte" in step.blocks


def test_tags_accept_a_comma_string_and_unknown_keys_are_kept() -> None:
    source = "---\ntitle: T\ntags: vpn, home\ncontractor: NetPartner GmbH\n---\nBody\n"
    article = parse_article("t", source)
    assert article.meta.tags == ["vpn", "home"]
    assert article.front_matter["contractor"] == "NetPartner GmbH"


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ("no front matter", "front_matter"),
        ("---\ntitle: [unclosed\n---\nBody\n", "front_matter"),
        ("---\n- a list\n---\nBody\n", "front_matter"),
        ("---\naudience: internal\n---\nBody\n", "title"),
        ("---\ntitle: T\naudience: world\n---\nBody\n", "audience"),
        ("---\ntitle: T\nreview_by: someday\n---\nBody\n", "review_by"),
        ("---\ntitle: T\n---\n\n", "body"),
    ],
)
def test_invalid_articles_name_the_field(source: str, field: str) -> None:
    with pytest.raises(InvalidArticle) as caught:
        parse_article("slug", source)
    assert caught.value.details[0]["field"] == field


def test_slug_must_be_safe() -> None:
    with pytest.raises(InvalidArticle):
        parse_article("../etc/passwd", "---\ntitle: T\n---\nBody\n")


def test_anchor_strips_accents_and_punctuation() -> None:
    assert anchor_for("Wenn das nicht hilft: Übergabe!") == "wenn-das-nicht-hilft-ubergabe"


def test_numeric_yaml_tags_become_text() -> None:
    article = parse_article("t", "---\ntitle: T\ntags: [0x80070005, 2024, vpn]\n---\nBody\n")
    assert article.meta.tags == ["0x80070005", "2024", "vpn"]
