"""Bodies of /escalations: the team that finally solved a ticket."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UtcDatetime


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    ticket_source: str = Field(min_length=1, max_length=100)
    ticket_id: str = Field(min_length=1, max_length=200)
    suggested_team: str | None = Field(default=None, max_length=100)
    final_team: str = Field(min_length=1, max_length=100)


class OutcomeOut(OutcomeIn):
    agreed: bool = Field(description="The final team is the suggested one.")
    actor: str
    created_at: UtcDatetime


class OutcomeList(BaseModel):
    outcomes: list[OutcomeOut]
    total: int
    agreement: float | None = Field(description="Share of outcomes where the suggestion held.")
