"""Bodies of /teams: the team catalogue from the charters."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TeamOut(BaseModel):
    slug: str = Field(description="Slug of the charter article.")
    team: str = Field(description="Team key used on tickets and articles.")
    name: str
    charter: str = Field(description="What the team is responsible for.")
    skills: list[str]
    escalation_criteria: list[str] = Field(description="When first level escalates to this team.")
    first_level_checks: list[str] = Field(description="What first level checks before.")
    hours: str | None
    contractor: str | None = Field(description="Contractor firm the team works with, if any.")
    escalation_contact: str | None
    language: str
    link: str


class TeamList(BaseModel):
    teams: list[TeamOut]
