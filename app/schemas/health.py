"""Bodies of /health and /ready."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    database: str
    indexed_passages: int
    model: str
    routing_version: str | None = Field(
        description="The routing model serving (the shared version every replica swaps to)."
    )
