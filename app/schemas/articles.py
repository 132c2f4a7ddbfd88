"""Bodies of /articles: reads, lists and writes."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UtcDatetime


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
    updated_at: UtcDatetime
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
    model_config = ConfigDict(extra="forbid", strict=True)

    slug: str = Field(min_length=1, max_length=200, pattern=r"^[a-z0-9][a-z0-9-]*$")
    markdown: str = Field(min_length=1, description="Markdown with YAML front matter.")


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    markdown: str = Field(min_length=1, description="Markdown with YAML front matter.")
