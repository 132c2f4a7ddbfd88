"""Bodies of /links: a resolved ticket solved by an article (reuse)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UtcDatetime
from ingest.tickets import TicketId, TicketSource


class LinkIn(BaseModel):
    """A ticket named as /tickets names it (the same source and id rules)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ticket_source: TicketSource
    ticket_id: TicketId
    article_slug: str = Field(min_length=1, max_length=200)


class LinkOut(BaseModel):
    """A stored link, as it was written (rows older than the id rules included)."""

    ticket_source: str
    ticket_id: str
    article_slug: str
    actor: str
    created_at: UtcDatetime


class LinkList(BaseModel):
    links: list[LinkOut]
    total: int
