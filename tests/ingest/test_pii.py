"""Personal data is masked; technical identifiers are not."""

from __future__ import annotations

import pytest

from ingest.pii import EMAIL_MASK, PHONE_MASK, mask_personal_data


@pytest.mark.parametrize(
    "text",
    [
        "mail max.mustermann@example.com please",
        "Tel. +49 170 1234567",
        "Tel. 0049 (0) 89 123 456 78",
        "ruf an: 030/1234567",
        "Durchwahl 06221 / 54 32 10",
    ],
)
def test_personal_data_is_masked(text: str) -> None:
    masked = mask_personal_data(text)
    assert EMAIL_MASK in masked or PHONE_MASK in masked
    assert not any(ch.isdigit() for ch in masked.split(":")[-1].replace("(0)", ""))


@pytest.mark.parametrize(
    "text",
    [
        "Fehler 0x80070005 beim Start",
        "am 2026-03-04 auf 10.0.0.1",
        "Ticket INC0012345 und KB5034441",
        "Version 16.0.17328.20162",
        "Port 8080, Event-ID 4625",
    ],
)
def test_codes_dates_and_versions_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text
