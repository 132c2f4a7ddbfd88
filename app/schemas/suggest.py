"""Bodies of /suggest: solutions, the team, the escalation decision and its evidence."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.search import SearchHit


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str = Field(min_length=1, max_length=1000)
    description: str = Field(default="", max_length=50_000)
    ticket_source: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The ticket tool (as in links and outcomes), recorded with the suggestion.",
    )
    ticket_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The ticket's id in that tool; with ticket_source it ties the suggestion "
        "to later links and escalation outcomes (the KPIs).",
    )


class Solution(SearchHit):
    resolution: str | None = Field(
        default=None, description="How a similar resolved ticket was solved."
    )


class TeamScore(BaseModel):
    name: str
    confidence: float


class TeamSuggestion(TeamScore):
    display_name: str | None = None
    alternatives: list[TeamScore]
    stage: Literal["charters", "vote", "classifier", "none"] = Field(
        description="What the router decided by: team charters only (no tickets yet), a vote "
        "of similar resolved tickets, or the classifier trained on resolved tickets."
    )
    abstained: bool = Field(
        description="True when the confidence is below the threshold: the dispatcher decides."
    )
    reason: str


class SimilarTicketOut(BaseModel):
    """A resolved ticket close to the new one: evidence for its team."""

    id: str
    title: str
    team: str
    score: float = Field(description="Cosine similarity to the new ticket.")
    link: str | None
    tool_link: str | None = Field(default=None, description="The ticket in its ticket tool.")


class CharterLineOut(BaseModel):
    """A line of a team charter that matches the new ticket."""

    team: str
    section: str
    text: str
    score: float = Field(description="Cosine similarity to the new ticket.")
    link: str


class RoutingEvidence(BaseModel):
    similar_tickets: list[SimilarTicketOut]
    charter_lines: list[CharterLineOut]


class GuidelineRef(BaseModel):
    slug: str
    title: str
    link: str
    criteria: list[str] = Field(description="Escalation criteria from the team's charter.")


class FirstLevelSolution(BaseModel):
    """A published how-to close enough to the ticket to solve it at first level."""

    slug: str
    title: str
    link: str
    team: str | None
    similarity: float


class Escalation(BaseModel):
    action: Literal["resolve_at_first_level", "escalate", "dispatcher"]
    team: str | None
    reason: str
    contractor: str | None = Field(description="Partner firm the team works with, if any.")
    guideline: GuidelineRef | None
    solution: FirstLevelSolution | None = Field(
        default=None, description="The proven solution when first level can resolve."
    )


class SuggestResponse(BaseModel):
    solutions: list[Solution]
    team: TeamSuggestion | None
    escalation: Escalation
    evidence: RoutingEvidence
    took_ms: float
