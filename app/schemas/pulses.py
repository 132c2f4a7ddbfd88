"""Bodies of /pulses: one side's 1-5 rating of a handover, and the ratings per month."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UtcDatetime
from ingest.tickets import TicketId, TicketSource

Side = Literal["first_level", "second_level", "contractor"]
Aspect = Literal["answer", "escalation", "clarity", "documentation"]


class PulseIn(BaseModel):
    """First level rates the `answer`; second level the `escalation` (with its three
    checks); a contractor the escalation's `clarity` and the shared `documentation`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ticket_source: TicketSource
    ticket_id: TicketId
    aspect: Aspect
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)
    complete: bool | None = Field(default=None, description="escalation only")
    justified: bool | None = Field(default=None, description="escalation only")
    right_team: bool | None = Field(default=None, description="escalation only")


class PulseOut(BaseModel):
    ticket_source: str
    ticket_id: str
    side: Side
    aspect: Aspect
    rating: int
    comment: str | None = Field(description="As stored: personal data masked.")
    team: str | None = Field(description="The team the ticket was handed to.")
    at: UtcDatetime


class PulseFigures(BaseModel):
    """Ratings of one month, side, aspect, team and rater firm (null: internal)."""

    period: str
    side: Side
    aspect: Aspect
    team: str | None
    firm: str | None
    ratings: int
    mean_rating: float | None
    complete_share: float | None = Field(description="escalation: share rated complete.")
    justified_share: float | None
    right_team_share: float | None


class PulseComment(BaseModel):
    at: UtcDatetime
    side: Side
    aspect: Aspect
    team: str | None
    rating: int
    comment: str


class PulseSummary(BaseModel):
    start: date
    end: date
    team: str | None
    figures: list[PulseFigures]
    comments: list[PulseComment] = Field(description="The newest comments (at most 20).")
