"""An API key as lists show it (never the key itself)."""

from __future__ import annotations

from pydantic import BaseModel

from app.schemas.common import UtcDatetime


class KeyOut(BaseModel):
    id: int
    name: str
    role: str
    teams: list[str]
    company: str | None
    prefix: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
