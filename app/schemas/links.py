"""Bodies of /links: a resolved ticket solved by an article (reuse)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UtcDatetime


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    ticket_source: str = Field(min_length=1, max_length=100)
    ticket_id: str = Field(min_length=1, max_length=200)
    article_slug: str = Field(min_length=1, max_length=200)


class LinkOut(LinkIn):
    actor: str
    created_at: UtcDatetime


class LinkList(BaseModel):
    links: list[LinkOut]
    total: int
