"""Bodies of /tickets: a resolved ticket in and out."""

from __future__ import annotations

from pydantic import BaseModel

from app.schemas.common import UtcDatetime
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
    created_at: UtcDatetime | None
    resolved_at: UtcDatetime | None
    link: str


class TicketWriteResult(BaseModel):
    ticket: TicketOut
    created: bool
