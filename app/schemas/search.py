"""Bodies of /search: the query, its filters, and the hits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import JsonInt

DocumentKind = Literal["article", "ticket"]


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: DocumentKind | None = Field(default=None, description="Only articles or only tickets.")
    team: str | None = Field(default=None, max_length=100, description="Owning or solving team.")
    language: str | None = Field(default=None, max_length=10, description="Language code.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    query: str = Field(min_length=1, max_length=2000, description="What the agent typed.")
    k: JsonInt = Field(default=10, ge=1, le=1000, description="How many documents to return.")
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
