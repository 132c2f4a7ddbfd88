"""Every setting explains itself and is documented for operators."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_every_setting_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [
        f"STELLWERK_{name.upper()}"
        for name in Settings.model_fields
        if f"STELLWERK_{name.upper()}" not in readme
    ]
    assert missing == []
