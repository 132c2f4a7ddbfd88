"""Bodies of /tickets: a resolved ticket in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from app.schemas.common import UtcDatetime
from ingest.tickets import ResolvedTicket, TicketId, TicketSource


def _iso_string(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("a date and time as an ISO 8601 string, e.g. 2026-11-30T09:00:00+01:00")
    return value


# JSON has no datetime: an ISO 8601 string is what a strict body accepts for one (not a
# number: 0 would be 1970 as a Unix time).
JsonDatetime = Annotated[datetime, BeforeValidator(_iso_string), Field(strict=False)]


class TicketIn(ResolvedTicket):
    """A resolved ticket pushed by a ticket tool: strict, unlike rows read from files."""

    model_config = ConfigDict(strict=True)

    # Ticket tools send numbers as ids; the document says so, and they are stored as text.
    id: Annotated[
        TicketId,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1, "maxLength": 200},
                    {"type": "integer"},
                ],
                "description": "Id in the source ticket tool (no '/'); a number becomes text.",
            }
        ),
    ]
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

    @field_validator("team", "language", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        """The file reader's rule without the times: in a JSON body "" is no time (422)."""
        return None if value == "" else value


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
