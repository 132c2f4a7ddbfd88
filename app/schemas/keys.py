"""An API key as lists show it (never the key itself)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class KeyOut(BaseModel):
    id: int
    name: str
    role: str
    teams: list[str]
    company: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
