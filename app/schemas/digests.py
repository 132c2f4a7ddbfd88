"""A weekly digest for one team or one contractor firm (issue 12, item 6)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.pulses import PulseFigures
from app.schemas.training import TrainingTopic

Audience = Literal["team", "firm"]


class DigestFigures(BaseModel):
    """The week's KPIs, summed over its days for the team (or the firm's teams)."""

    suggestions: int = Field(description="Suggestions naming the team (teams only).")
    escalated: int = Field(description="Escalations to the team or the firm's teams.")
    outcomes: int
    agreed: int | None = Field(description="Outcomes whose final team was the suggested one.")
    reassigned: int
    feedback: int
    helpful: int
    helpful_share: float | None


class DigestGap(BaseModel):
    """A knowledge gap found in the week (filled by the gap finding)."""

    title: str
    size: int
    link: str | None = None


class DigestTask(BaseModel):
    id: int
    target: str
    reason: str
    age_days: float


class Digest(BaseModel):
    audience: Audience
    name: str = Field(description="The team key or the firm's name.")
    start: date = Field(description="Monday of the week.")
    end: date = Field(description="Sunday of the week.")
    figures: DigestFigures
    new_gaps: list[DigestGap]
    open_tasks: list[DigestTask] = Field(description="The oldest open tasks (at most 10).")
    training: list[TrainingTopic] = Field(description="The top training topics (at most 5).")
    satisfaction: list[PulseFigures]
