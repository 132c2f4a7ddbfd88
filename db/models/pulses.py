"""Satisfaction pulses: one side's 1-5 rating (and a masked comment) of a handover."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class Pulse(Base):
    """A rating of one aspect of a handover (a ticket passed between the levels or firms).

    side: first_level (rates the second-level `answer`), second_level (rates the
    `escalation`: complete, justified, right team), contractor (rates the escalation's
    `clarity` and the shared `documentation`). `team` is the team the ticket was handed to;
    `company` the rater's firm (contractors only), which decides who may read the row."""

    __tablename__ = "pulses"
    __table_args__ = (
        UniqueConstraint("ticket_source", "ticket_id", "actor", "aspect", name="uq_pulses"),
        Index("ix_pulses_team_at", "team", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    ticket_source: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(20))
    aspect: Mapped[str] = mapped_column(String(20))
    rating: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool | None] = mapped_column()
    justified: Mapped[bool | None] = mapped_column()
    right_team: Mapped[bool | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200), index=True)
    actor: Mapped[str] = mapped_column(String(200))
