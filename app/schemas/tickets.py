"""Bodies of /tickets: a resolved ticket in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.common import UtcDatetime
from ingest.tickets import ResolvedTicket, TicketSource

# JSON has no datetime: an ISO 8601 string is what a strict body accepts for one.
JsonDatetime = Annotated[datetime, Field(strict=False)]


class TicketIn(ResolvedTicket):
    """A resolved ticket pushed by a ticket tool: strict, unlike rows read from files."""

    model_config = ConfigDict(strict=True)

    source: TicketSource = "api"
    created_at: JsonDatetime | None = None
    resolved_at: JsonDatetime | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        """A JSON number is an id (ticket tools send them); a bool is not."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        return value  # a list of strings; no splitting of one string as for CSV files


class TicketOut(BaseModel):
    id: str
    source: str
    title: str
    description: str
    resolution: str
    team: str | None
    language: str | None
    tags: list[str]
    created_at: UtcDatetime | None
    resolved_at: UtcDatetime | None
    link: str
    tool_link: str | None = Field(
        default=None, description="The ticket in its ticket tool, for tickets from a connector."
    )


class TicketWriteResult(BaseModel):
    ticket: TicketOut
    created: bool
