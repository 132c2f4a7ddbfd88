"""Bounded integers for paths and queries: anything the database cannot bind (SQLite
stops at 2^63) is the one-shape 422 before a handler runs, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator

MAX_INT = 2**31 - 1  # the largest INTEGER both SQLite and PostgreSQL store in every column

Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_INT)]
TaskId = Annotated[int, Path(ge=1, le=MAX_INT)]


def iso_date(value: Any) -> Any:
    """Only `YYYY-MM-DD`: pydantic's lax dates would take `0` as 1970-01-01."""
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    raise ValueError("an ISO date, YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(iso_date)]

# The time range and team every figure endpoint (KPIs, training, pulses, gaps) takes.
RangeStart = Annotated[
    IsoDate | None, Query(alias="from", description="First day (ISO date, UTC); 90 days back.")
]
RangeEnd = Annotated[
    IsoDate | None, Query(alias="to", description="Last day, inclusive (ISO date); today.")
]
RangeTeam = Annotated[str | None, Query(min_length=1, max_length=100)]
