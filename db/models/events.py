"""Suggestion and search events, the rows KPIs are computed from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class SuggestionEvent(Base):
    """One suggestion answered (API, console page or connector): what KPIs are computed from.

    No text of the ticket is kept, only the decision, so nothing personal is stored."""

    __tablename__ = "suggestion_events"
    __table_args__ = (
        Index("ix_suggestion_events_ticket", "ticket_source", "ticket_id", "company"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(20))  # api | page | connector
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    company: Mapped[str | None] = mapped_column(String(200), index=True)
    ticket_source: Mapped[str | None] = mapped_column(String(100))
    ticket_id: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(30))
    escalation_team: Mapped[str | None] = mapped_column(String(100))


class SuggestionShown(Base):
    """A solution a suggestion showed, with its rank (1 = first)."""

    __tablename__ = "suggestion_shown"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("suggestion_events.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(500), index=True)


class SearchEvent(Base):
    """One search answered, with its query masked as ingest masks tickets."""

    __tablename__ = "search_events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    company: Mapped[str | None] = mapped_column(String(200), index=True)
    query: Mapped[str] = mapped_column(Text)
    results: Mapped[int] = mapped_column(Integer)
    top_score: Mapped[float | None] = mapped_column(Float)
