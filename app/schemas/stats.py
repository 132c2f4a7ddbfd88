"""Body of /stats: counts over what the caller may see."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Stats(BaseModel):
    articles: int = Field(description="Published articles you may see.")
    articles_by_team: dict[str, int]
    stale_articles: int
    tickets: int = Field(description="Resolved tickets (0 for contractors: they are internal).")
    helpful: int | None = Field(description="Helpful feedback (staff only).")
    not_helpful: int | None
    open_tasks: int | None
    reuse_links: int | None
    escalations: int | None
    escalation_agreement: float | None
