"""Bodies of GET /gaps and POST /gaps/{key}/draft: clusters no published article covers.

Definitions in docs/KPIS.md (Knowledge gaps)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

CandidateKind = Literal["ticket", "search"]


class GapMember(BaseModel):
    """A ticket (or a search) of a gap, as a reviewer would read it."""

    ref: str = Field(description="`ticket:{source}:{id}` or `search:{event id}`.")
    kind: CandidateKind
    title: str = Field(description="The ticket's title, or the masked search text.")
    resolution: str = Field(description="How the ticket was solved (empty for a search).")
    team: str | None
    coverage: float = Field(description="Similarity to the best published article.")


class Count(BaseModel):
    name: str
    count: int


class Gap(BaseModel):
    """A cluster of uncovered tickets and searches, with what a draft needs."""

    key: str = Field(description="Stable key of the gap: a hash of its most typical member.")
    size: int
    tickets: int
    searches: int
    escalated: int = Field(description="Member tickets that were escalated.")
    escalation_share: float = Field(description="escalated / tickets (0 without tickets).")
    trend: float = Field(
        description="(members in the later half of the range - earlier half) / size."
    )
    priority: float = Field(
        description="size x (escalated + 1) / (tickets + 2): volume times the escalation "
        "share, smoothed so a gap without escalations still ranks by its volume."
    )
    team: str | None = Field(description="The owning team: most members' team.")
    teams: list[Count]
    languages: list[Count]
    key_terms: list[str]
    proposed_title: str
    representatives: list[GapMember]
    members: list[str] = Field(description="Refs of every member, most typical first.")


class GapList(BaseModel):
    start: date = Field(description="First day of the range (UTC).")
    end: date = Field(description="Last day, inclusive.")
    team: str | None
    candidates: int = Field(description="Tickets and searches in the range you may see.")
    uncovered: int = Field(description="Of those, not covered by a published article.")
    cut: float | None = Field(
        description="Coverage score at or below which a candidate is uncovered, derived "
        "from this knowledge base (null: too few candidates or articles to derive one). "
        "In standard scores of each article's cosines over the candidates (docs/KPIS.md)."
    )
    cluster_cut: float | None = Field(
        description="Similarity at which uncovered candidates join one gap: the median "
        "best cosine (of centred vectors) of the covered ones."
    )
    gaps: list[Gap]


class GapDraft(BaseModel):
    """The article drafted from a gap, now in its team's review queue."""

    slug: str
    version: int
    state: str
    team: str | None
    cited: list[str] = Field(description="Refs of the tickets the draft cites.")
