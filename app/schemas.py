"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.tickets import ResolvedTicket

DocumentKind = Literal["article", "ticket"]


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DocumentKind | None = Field(default=None, description="Only articles or only tickets.")
    team: str | None = Field(default=None, max_length=100, description="Owning or solving team.")
    language: str | None = Field(default=None, max_length=10, description="Language code.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2000, description="What the agent typed.")
    k: int = Field(default=10, ge=1, le=1000, description="How many documents to return.")
    filters: SearchFilters = Field(default_factory=SearchFilters)
    prefer_language: str | None = Field(
        default=None,
        max_length=10,
        description="Soft preference: near-equal hits in this language rank first; other "
        "languages stay (use filters.language to exclude them).",
    )


class SearchHit(BaseModel):
    id: str = Field(description="`article:<slug>` or `ticket:<source>:<id>`.")
    kind: DocumentKind
    title: str
    heading_path: list[str] = Field(description="Headings above the best-matching passage.")
    snippet: str
    highlights: list[tuple[int, int]] = Field(
        default_factory=list,
        description="Character spans [start, end) in the snippet of words the query matched.",
    )
    score: float = Field(description="Ranking score of the system used; comparable per query.")
    link: str
    team: str | None
    language: str | None
    stale: bool = Field(
        default=False, description="An article past its review_by date: check before trusting."
    )


class SearchResponse(BaseModel):
    hits: list[SearchHit]
    took_ms: float


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=1000)
    description: str = Field(default="", max_length=50_000)


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


class ArticleSummary(BaseModel):
    slug: str
    title: str
    kind: str
    team: str | None
    audience: str
    language: str
    tags: list[str]
    owner: str | None
    review_by: date | None
    updated_at: datetime
    link: str
    status: str = Field(description="draft, in_review, published or archived.")
    companies: list[str] = Field(description="Partner companies of a `partners` article.")
    stale: bool = Field(description="Past its review_by date.")
    pending_version: int | None = Field(
        default=None,
        description="Newest version when it is not yet live (a draft or one in review).",
    )


class ArticleOut(ArticleSummary):
    front_matter: dict[str, object]
    markdown: str = Field(description="The article source, front matter included.")
    html: str = Field(description="The body rendered to HTML; raw HTML in the source is escaped.")


class ArticleList(BaseModel):
    articles: list[ArticleSummary]
    total: int


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(min_length=1, max_length=200, pattern=r"^[a-z0-9][a-z0-9-]*$")
    markdown: str = Field(min_length=1, description="Markdown with YAML front matter.")


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    markdown: str = Field(min_length=1, description="Markdown with YAML front matter.")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    database: str
    indexed_passages: int
    model: str
