"""Keeping `TicketDay` (resolved tickets per day and team, and the linked ones) equal to
the tickets and links: the link rate reads ~days x teams rows instead of every ticket of
its range with a probe of its links.

A ticket saved by the ingest moves from its old day and team to its new ones (one UPSERT);
a ticket's first solution link adds one to its day's linked count; `rebuild_ticket_days`
recomputes them from the tables."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import case, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from db.models import SolutionLink, Ticket, TicketDay
from db.rollup_sql import add, as_day, day_of

# (resolution day, team) of a ticket, None while it has no resolution time.
Place = tuple[date, str] | None


def place(resolved_at: datetime | None, team: str | None) -> Place:
    return None if resolved_at is None else (as_day(resolved_at), team or "")


def _is_linked(session: Session, source: str, ticket: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    SolutionLink.ticket_source == source, SolutionLink.ticket_id == ticket
                )
            )
        )
    )


def _add(session: Session, changes: Counter[tuple[date, str, str]]) -> None:
    """Add each (day, team, "resolved" | "linked") change to its row."""
    rows: dict[tuple[date, str], dict[str, int]] = {}
    for (day, team, column), n in changes.items():
        rows.setdefault((day, team), {"resolved": 0, "linked": 0})[column] += n
    add(
        session,
        TicketDay.__table__,
        ("day", "team"),
        [{"day": d, "team": t, **counts} for (d, t), counts in sorted(rows.items())],
    )
    if any(n < 0 for n in changes.values()):
        session.execute(delete(TicketDay).where(TicketDay.resolved <= 0))


def ticket_saved(session: Session, ticket: Ticket, before: Place, *, created: bool) -> None:
    """A ticket was ingested (`created`) or saved again, at `before` until now."""
    after = place(ticket.resolved_at, ticket.team)
    if after == before and not created:
        return
    linked = _is_linked(session, ticket.source, ticket.external_id)
    changes: Counter[tuple[date, str, str]] = Counter()
    for where, sign in ((None if created else before, -1), (after, 1)):
        if where is not None:
            changes[(*where, "resolved")] += sign
            changes[(*where, "linked")] += sign * linked
    _add(session, changes)


def ticket_linked(session: Session, link: SolutionLink) -> None:
    """A new solution link (flushed): the ticket's first one counts it as linked. The
    ticket's row is locked first, so two links of one ticket committing at once count it
    once (PostgreSQL; SQLite writes one at a time)."""
    resolved = session.execute(
        select(Ticket.resolved_at, Ticket.team)
        .where(Ticket.source == link.ticket_source, Ticket.external_id == link.ticket_id)
        .with_for_update()
    ).one_or_none()
    if resolved is None:
        return  # counted when the ticket is ingested
    links = session.scalar(
        select(func.count()).where(
            SolutionLink.ticket_source == link.ticket_source,
            SolutionLink.ticket_id == link.ticket_id,
        )
    )
    where = place(*resolved)
    if links == 1 and where is not None:
        _add(session, Counter({(*where, "linked"): 1}))


def rebuild_ticket_days(session: Session) -> None:
    """Recompute every day's resolved and linked tickets."""
    session.execute(delete(TicketDay))
    linked = (
        select(1)
        .where(
            SolutionLink.ticket_source == Ticket.source,
            SolutionLink.ticket_id == Ticket.external_id,
        )
        .exists()
    )
    day, team = day_of(session, Ticket.resolved_at), func.coalesce(Ticket.team, "")
    counted = (
        select(day, team, func.count(), func.sum(case((linked, 1), else_=0)))
        .where(Ticket.resolved_at.is_not(None))
        .group_by(day, team)
    )
    session.execute(insert(TicketDay).from_select(["day", "team", "resolved", "linked"], counted))
