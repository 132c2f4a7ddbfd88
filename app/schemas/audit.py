"""Bodies of /audit: who wrote what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_key_id: int | None
    action: str
    target: str
    details: dict[str, Any]


class AuditList(BaseModel):
    entries: list[AuditOut]
    total: int
