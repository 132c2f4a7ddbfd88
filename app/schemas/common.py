"""Types shared by the bodies: a timestamp always goes out in UTC with its offset."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

from db.models import as_utc

# A value without an offset (as SQLite hands them back) is UTC: Stellwerk stores nothing else.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
