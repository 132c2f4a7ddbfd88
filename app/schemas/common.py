"""Types shared by the bodies: timestamps go out in UTC with their offset; integers as JSON
Schema means them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from db.models import as_utc

# A value without an offset (as SQLite hands them back) is UTC: Stellwerk stores nothing else.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def _json_integer(value: Any) -> Any:
    """JSON Schema's integer: 5 and 5.0, never true or "5" (strict bodies refuse those)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# For integer fields of strict bodies: 40.0 is the integer 40, as the document promises.
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
