"""KPI rollups: what the events come to per day, kept beside them so a KPI page reads
~days x teams rows instead of every event of its range (docs/KPIS.md, "Rollups").

Written in the same transaction as the event, link or feedback that changes them
(`db.kpi_rollups`), shrunk by the retention prune, rebuildable from the events. Key
columns that may be absent hold "" (a NULL would never conflict in an UPSERT)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime

# SQLite keeps these tables in primary-key order (no rowid): a range of days is read as
# contiguous rows, not one index entry and one row lookup each.
CLUSTERED = {"sqlite_with_rowid": False}


class SuggestionConfirmed(Base):
    """A first-level suggestion confirmed by a solution link of its ticket or a helpful
    mark of its caller on a solution it showed: marked once, so it is counted once."""

    __tablename__ = "suggestion_confirmed"
    __table_args__ = CLUSTERED

    event_id: Mapped[int] = mapped_column(
        ForeignKey("suggestion_events.id", ondelete="CASCADE"), primary_key=True
    )


class SuggestionDay(Base):
    """Suggestion events per UTC day, suggested team, caller's company, action and
    escalation team, and how many of them are confirmed (`SuggestionConfirmed`)."""

    __tablename__ = "suggestion_days"
    __table_args__ = CLUSTERED

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    company: Mapped[str] = mapped_column(String(200), primary_key=True)
    action: Mapped[str] = mapped_column(String(30), primary_key=True)
    escalation_team: Mapped[str] = mapped_column(String(100), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)


class SearchDay(Base):
    """Search events per UTC day and caller's company, and those that found nothing."""

    __tablename__ = "search_days"
    __table_args__ = CLUSTERED

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    company: Mapped[str] = mapped_column(String(200), primary_key=True)
    searches: Mapped[int] = mapped_column(Integer)
    empty: Mapped[int] = mapped_column(Integer)


class FixPair(Base):
    """A ticket and a how-to first level had as a fix for it: the how-to a first-level
    suggestion showed first among the articles (`article:<slug>`), or the one the ticket
    was linked to; when it was first offered and when linked (either may be absent). The
    case dates from the earlier of the two (`since`)."""

    __tablename__ = "fix_pairs"
    __table_args__ = CLUSTERED

    ticket_source: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    slug: Mapped[str] = mapped_column(String(500), primary_key=True)
    first_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    linked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class FixDay(Base):
    """Per UTC day and how-to: the escalated tickets whose case for that how-to dates from
    that day (`FixPair.since` of an `EscalatedTicket`)."""

    __tablename__ = "fix_days"
    __table_args__ = CLUSTERED

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slug: Mapped[str] = mapped_column(String(500), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)


class FirstSuggestion(Base):
    """A ticket's first recorded suggestion (lowest event id), of any caller (`company`
    "") and of each firm's own callers: what routing accuracy bands an outcome by."""

    __tablename__ = "first_suggestions"
    __table_args__ = CLUSTERED

    ticket_source: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    company: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("suggestion_events.id", ondelete="CASCADE"), index=True
    )
    confidence: Mapped[float | None] = mapped_column(Float)


class EscalatedTicket(Base):
    """A ticket that reached second level: an outcome was recorded for it, or one of its
    suggestions escalated."""

    __tablename__ = "escalated_tickets"
    __table_args__ = CLUSTERED

    ticket_source: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class TicketDay(Base):
    """Resolved tickets per UTC day of resolution and ticket team ("" for none), and those
    with at least one solution link: the link rate's numerator and denominator."""

    __tablename__ = "ticket_days"
    __table_args__ = CLUSTERED

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    resolved: Mapped[int] = mapped_column(Integer)
    linked: Mapped[int] = mapped_column(Integer)
