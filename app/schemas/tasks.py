"""Bodies of /tasks: work for the owning team opened by feedback."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UtcDatetime


class TaskOut(BaseModel):
    id: int
    team: str | None
    status: Literal["open", "closed"]
    reason: str
    target: str
    comment: str | None
    created_at: UtcDatetime
    closed_at: UtcDatetime | None
    closed_by: str | None
    resolution: str | None


class TaskList(BaseModel):
    tasks: list[TaskOut]
    total: int


class TaskClose(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    resolution: str | None = Field(default=None, max_length=5000)
