"""Bodies of /escalations: the team that finally solved a ticket."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UtcDatetime
from ingest.tickets import TicketId, TicketSource


class OutcomeIn(BaseModel):
    """A ticket named as /tickets names it (the same source and id rules)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ticket_source: TicketSource
    ticket_id: TicketId
    suggested_team: str | None = Field(default=None, max_length=100)
    first_team: str | None = Field(
        default=None,
        max_length=100,
        description="The team the ticket was first escalated to, if known: a final team "
        "other than this one counts as a reassignment.",
    )
    final_team: str = Field(min_length=1, max_length=100)


class OutcomeOut(BaseModel):
    """A stored outcome, as it was written (rows older than the id rules included)."""

    ticket_source: str
    ticket_id: str
    suggested_team: str | None
    first_team: str | None
    final_team: str
    reassigned: bool | None = Field(
        description="The final team differs from the first escalation (null: first unknown)."
    )
    agreed: bool = Field(description="The final team is the suggested one.")
    actor: str
    created_at: UtcDatetime


class OutcomeList(BaseModel):
    outcomes: list[OutcomeOut]
    total: int
    agreement: float | None = Field(description="Share of outcomes where the suggestion held.")
