"""Mask obvious personal data (e-mail addresses, phone numbers) before text is stored."""

from __future__ import annotations

import re

EMAIL_MASK = "[E-Mail]"
PHONE_MASK = "[Telefon]"

_EMAIL = re.compile(r"[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# International (+49 ..., 0049 ...) or national (0 followed by an area code) numbers with the
# usual separators. A leading 0 followed by x (hex error codes), dates and IP addresses do
# not match: they neither start with + / 00 nor with 0 and a digit run of this shape.
_PHONE = re.compile(
    r"(?<![\w.+/-])"
    r"(?:(?:\+|00)\d{1,3}[ ./-]?(?:\(0\)[ ]?)?|0)"
    r"(?:\(?\d{2,5}\)?)(?:(?: ?[./-] ?| )?\d{2,}){1,4}"
    r"(?![\w.-]*\d)"
)
_MIN_PHONE_DIGITS = 7


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return PHONE_MASK if digits >= _MIN_PHONE_DIGITS else match.group(0)


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses and phone numbers with placeholders."""
    masked = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(_mask_phone, masked)
