"""Bodies of /links: a resolved ticket solved by an article (reuse)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_source: str = Field(min_length=1, max_length=100)
    ticket_id: str = Field(min_length=1, max_length=200)
    article_slug: str = Field(min_length=1, max_length=200)


class LinkOut(LinkIn):
    actor: str
    created_at: datetime


class LinkList(BaseModel):
    links: list[LinkOut]
    total: int
