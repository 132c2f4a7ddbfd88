"""The one error shape, as the OpenAPI document declares it for every error status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `article_not_found`.")
    message: str = Field(description="What went wrong, for people.")
    status: int = Field(description="The HTTP status again, for clients that lose it.")
    details: list[dict[str, Any]] = Field(
        description="Per-field problems (`field`, `message`, `type`) or per-row reports."
    )


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx body: `{"error": {code, message, status, details}}`."""

    error: ErrorDetail
