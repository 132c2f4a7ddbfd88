"""Bodies of /tickets: a resolved ticket in and out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ingest.tickets import ResolvedTicket


class TicketIn(ResolvedTicket):
    """A resolved ticket pushed by a ticket tool."""

    source: str = Field(default="api", min_length=1, max_length=100)


class TicketOut(BaseModel):
    id: str
    source: str
    title: str
    description: str
    resolution: str
    team: str | None
    language: str | None
    tags: list[str]
    created_at: datetime | None
    resolved_at: datetime | None
    link: str


class TicketWriteResult(BaseModel):
    ticket: TicketOut
    created: bool
