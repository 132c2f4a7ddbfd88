"""What people report back: feedback, the tasks it opens, solution links and escalation outcomes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class Feedback(Base):
    """Helpful or not, from whoever used a suggestion or an article."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(500), index=True)
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    context: Mapped[str] = mapped_column(String(20))
    helpful: Mapped[bool] = mapped_column()
    flag: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class Task(Base):
    """Work for an owning team, opened by negative feedback or a flag."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    reason: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)


class SolutionLink(Base):
    """A resolved ticket was solved by an article: counts as a reuse of the article."""

    __tablename__ = "solution_links"
    __table_args__ = (
        UniqueConstraint("ticket_source", "ticket_id", "article_slug", name="uq_solution_links"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_source: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(200))
    article_slug: Mapped[str] = mapped_column(String(200), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class EscalationOutcome(Base):
    """The team an escalated ticket really ended with, against the team suggested."""

    __tablename__ = "escalation_outcomes"
    __table_args__ = (
        UniqueConstraint("ticket_source", "ticket_id", name="uq_escalation_outcomes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_source: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(200))
    suggested_team: Mapped[str | None] = mapped_column(String(100), index=True)
    final_team: Mapped[str] = mapped_column(String(100), index=True)
    # The team the ticket was first escalated to, when a connector (or the caller) reports
    # it: a final team other than this one is a reassignment.
    first_team: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
