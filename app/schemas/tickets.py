"""Bodies of /tickets: a resolved ticket in and out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ingest.tickets import ResolvedTicket, TicketSource


class TicketIn(ResolvedTicket):
    """A resolved ticket pushed by a ticket tool."""

    source: TicketSource = "api"


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
