"""Bodies of /audit: who wrote what, when."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.schemas.common import UtcDatetime


class AuditOut(BaseModel):
    id: int
    at: UtcDatetime
    actor: str
    actor_key_id: int | None
    action: str
    target: str
    details: dict[str, Any]


class AuditList(BaseModel):
    entries: list[AuditOut]
    total: int
