"""Bodies of /connectors: configured tools (never their secrets), webhook answers, deliveries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.schemas.common import UtcDatetime


class ConnectorOut(BaseModel):
    """A configured ticket tool. Its secret and token are never shown: only whether set."""

    name: str
    tool: str
    url: str
    has_secret: bool
    has_token: bool
    write_back: bool
    set_group: bool
    group_map: dict[str, str]
    webhook: str = Field(description="Path of its webhook endpoint.")
    created_at: UtcDatetime


class WebhookAnswer(BaseModel):
    status: Literal["suggested", "stored", "duplicate", "stale", "ignored", "queued"] = Field(
        description="suggested (open ticket), stored (resolved ticket), duplicate (a delivery "
        "id already taken), stale (older than what is stored), ignored (no ticket in it), "
        "queued (answered 202: the suggestion took longer than the webhook deadline and "
        "completes from the delivery queue)."
    )
    ticket: str | None = Field(description="`ticket:<connector>:<number>`, if any.")
    queued: int = Field(description="Write-backs and notifications queued for delivery.")


class DeliveryOut(BaseModel):
    id: int
    connector: str | None
    kind: str
    target: str
    status: str
    attempts: int
    next_attempt_at: UtcDatetime
    last_error: str | None
    created_at: UtcDatetime
    delivered_at: UtcDatetime | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
    total: int
    counts: dict[str, int] = Field(description="Deliveries per status, over all of them.")


JsonObject = dict[str, Any]
