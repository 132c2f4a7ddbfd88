"""Ticket tools Stellwerk is plugged into: deliveries, tickets, outbox, contractor endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class ConnectorConfig(Base):
    """A ticket tool Stellwerk is plugged into. `secret` and `token` are kept to sign and
    call with, and never leave the service: no API body nor CLI listing shows them."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    tool: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(Text)
    token: Mapped[str | None] = mapped_column(Text)
    write_back: Mapped[bool] = mapped_column(default=False)
    set_group: Mapped[bool] = mapped_column(default=False)
    group_map: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where the last history import stopped (a page, an offset or a token), to resume.
    import_cursor: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class InboundDelivery(Base):
    """One webhook delivery taken in, by the tool's delivery id: a replay changes nothing."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (
        UniqueConstraint("connector_id", "delivery_id", name="uq_inbound_deliveries"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(200))
    ticket_key: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ToolTicket(Base):
    """What Stellwerk knows of one ticket in a tool: its newest state and the suggestion."""

    __tablename__ = "tool_tickets"
    __table_args__ = (UniqueConstraint("connector_id", "ticket_key", name="uq_tool_tickets"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    # The id the tool's API takes (Zammad ticket.id) and the number people see and Stellwerk
    # stores the resolved ticket under (Zammad ticket.number); the same for Jira and GLPI.
    ticket_key: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(200), index=True)
    closed: Mapped[bool] = mapped_column(default=False)
    tool_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The first team the tool reported the ticket in (its group, mapped): the first
    # escalation, against which the final team counts a reassignment.
    first_team: Mapped[str | None] = mapped_column(String(100))
    suggested_team: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column(Float)
    suggested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OutboxItem(Base):
    """A write-back or notification waiting to go out, retried with backoff until sent.

    status: pending | sending (an attempt began; after a crash it is checked before a
    resend) | delivered | failed (gave up after the last attempt)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connector: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ContractorEndpoint(Base):
    """Where a contractor firm is told that one of its teams' tickets reached it."""

    __tablename__ = "contractor_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TeamEndpoint(Base):
    """Where a team's weekly digest is sent (signed like a contractor's notifications)."""

    __tablename__ = "team_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
