"""The rollups behind training's first-level list: which tickets reached second level
(`EscalatedTicket`), which how-to first level was first offered for a ticket and when
(`FixPair`), and per day and how-to the escalated tickets first offered it (`FixDay`).

A pair counts on its day while its ticket is escalated: a new pair of an escalated ticket,
or a ticket newly escalated with pairs, adds to its days (an INSERT and one UPSERT, in the
writer's transaction). The retention prune recomputes the tickets whose events it deletes
from the events that stay; `rebuild_fixes` recomputes everything from the events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    true,
    tuple_,
    union,
)
from sqlalchemy.orm import Session

from db.models import (
    EscalatedTicket,
    EscalationOutcome,
    FixDay,
    FixPair,
    SuggestionEvent,
    SuggestionShown,
)
from db.rollup_sql import add, as_day, day_of, dialect_module

FIRST_LEVEL = "resolve_at_first_level"
ARTICLE_PREFIX = "article:"


def _add_days(session: Session, pairs: Iterable[tuple[Any, str]], sign: int) -> None:
    """Add `sign` per (first_at, slug) to its day's row; drop the rows left at zero."""
    counts = Counter((as_day(at), slug) for at, slug in pairs)
    rows = [{"day": d, "slug": s, "tickets": sign * n} for (d, s), n in sorted(counts.items())]
    add(session, FixDay.__table__, ("day", "slug"), rows)
    if sign < 0 and rows:
        session.execute(delete(FixDay).where(FixDay.tickets <= 0))


def _is_escalated(session: Session, source: str, ticket: str) -> bool:
    return session.get(EscalatedTicket, (source, ticket)) is not None


def escalated(session: Session, ticket_source: str | None, ticket_id: str | None) -> None:
    """A ticket reached second level (an outcome, an escalating suggestion): the first time,
    its pairs start to count."""
    if ticket_source is None or ticket_id is None:
        return
    new = session.scalars(
        dialect_module(session)
        .insert(EscalatedTicket)
        .values(ticket_source=ticket_source, ticket_id=ticket_id)
        .on_conflict_do_nothing()
        .returning(EscalatedTicket.ticket_id)
    ).all()
    if new:
        pairs = session.execute(
            select(FixPair.first_at, FixPair.slug).where(
                FixPair.ticket_source == ticket_source, FixPair.ticket_id == ticket_id
            )
        )
        _add_days(session, [(at, slug) for at, slug in pairs], 1)


def offered(session: Session, event: SuggestionEvent, targets: list[str]) -> None:
    """A new suggestion (`targets` in rank order): its escalation, or the first-level fix
    it offered first among the articles."""
    if event.ticket_source is None or event.ticket_id is None:
        return
    if event.action == "escalate":
        escalated(session, event.ticket_source, event.ticket_id)
        return
    articles = [t for t in targets if t.startswith(ARTICLE_PREFIX)]
    if event.action != FIRST_LEVEL or not articles:
        return
    slug = articles[0][len(ARTICLE_PREFIX) :]
    new = session.scalars(
        dialect_module(session)
        .insert(FixPair)
        .values(
            ticket_source=event.ticket_source,
            ticket_id=event.ticket_id,
            slug=slug,
            first_at=event.at,
        )
        .on_conflict_do_nothing()
        .returning(FixPair.slug)
    ).all()
    if new and _is_escalated(session, event.ticket_source, event.ticket_id):
        _add_days(session, [(event.at, slug)], 1)


def _first_offers(scope: ColumnElement[bool]) -> Any:
    """(source, ticket, slug, first time) of the first-level suggestions `scope` selects."""
    event, shown = SuggestionEvent, SuggestionShown
    ranks = SuggestionShown.__table__.alias("ranks")
    # Each event's first article by rank, as one grouped pass (no subquery per event).
    first_article = (
        select(ranks.c.event_id, func.min(ranks.c.rank).label("rank"))
        .where(
            ranks.c.target.like(f"{ARTICLE_PREFIX}%"),
            ranks.c.event_id.in_(select(event.id).where(event.action == FIRST_LEVEL, scope)),
        )
        .group_by(ranks.c.event_id)
        .subquery()
    )
    slug = func.substr(shown.target, len(ARTICLE_PREFIX) + 1)
    return (
        select(event.ticket_source, event.ticket_id, slug, func.min(event.at))
        .join(first_article, first_article.c.event_id == event.id)
        .join(shown, and_(shown.event_id == event.id, shown.rank == first_article.c.rank))
        .where(
            event.action == FIRST_LEVEL,
            event.ticket_source.is_not(None),
            event.ticket_id.is_not(None),
            scope,
        )
        .group_by(event.ticket_source, event.ticket_id, slug)
    )


def _escalating(scope: ColumnElement[bool], outcomes: ColumnElement[bool]) -> Any:
    event = SuggestionEvent
    return union(
        select(EscalationOutcome.ticket_source, EscalationOutcome.ticket_id).where(outcomes),
        select(event.ticket_source, event.ticket_id).where(
            event.action == "escalate",
            event.ticket_source.is_not(None),
            event.ticket_id.is_not(None),
            scope,
        ),
    )


def _fill(session: Session, scope: ColumnElement[bool], outcomes: ColumnElement[bool]) -> None:
    """Insert the pairs and escalated tickets of the events `scope` selects (and of the
    outcomes `outcomes` selects)."""
    pair_columns = ["ticket_source", "ticket_id", "slug", "first_at"]
    session.execute(insert(FixPair).from_select(pair_columns, _first_offers(scope)))
    session.execute(
        dialect_module(session)
        .insert(EscalatedTicket)
        .from_select(["ticket_source", "ticket_id"], _escalating(scope, outcomes))
        .on_conflict_do_nothing()
    )


def _counted_pairs(session: Session, tickets: ColumnElement[bool]) -> Any:
    """(first_at, slug) of the pairs of escalated tickets among `tickets`."""
    escalated_pair = exists().where(
        EscalatedTicket.ticket_source == FixPair.ticket_source,
        EscalatedTicket.ticket_id == FixPair.ticket_id,
    )
    query = select(FixPair.first_at, FixPair.slug).where(tickets, escalated_pair)
    return [(at, slug) for at, slug in session.execute(query)]


def forget_fixes_before(session: Session, cutoff: datetime) -> None:
    """Before the events older than `cutoff` are deleted: recompute the tickets they
    belong to from the events that stay."""
    event = SuggestionEvent
    affected = (
        select(event.ticket_source, event.ticket_id)
        .where(event.at < cutoff, event.ticket_id.is_not(None))
        .distinct()
    )
    pair_of = tuple_(FixPair.ticket_source, FixPair.ticket_id).in_(affected)
    _add_days(session, list(_counted_pairs(session, pair_of)), -1)
    session.execute(delete(FixPair).where(pair_of))
    ticket_of = tuple_(EscalatedTicket.ticket_source, EscalatedTicket.ticket_id).in_(affected)
    session.execute(delete(EscalatedTicket).where(ticket_of))
    stays = and_(event.at >= cutoff, tuple_(event.ticket_source, event.ticket_id).in_(affected))
    outcome_of = tuple_(EscalationOutcome.ticket_source, EscalationOutcome.ticket_id).in_(affected)
    _fill(session, stays, outcome_of)
    _add_days(session, list(_counted_pairs(session, pair_of)), 1)


def rebuild_fixes(session: Session) -> None:
    """Recompute the escalated tickets, the pairs and their days from events and outcomes."""
    for table in (FixDay, FixPair, EscalatedTicket):
        session.execute(delete(table))
    _fill(session, true(), true())
    day = day_of(session, FixPair.first_at)
    counted = (
        select(day, FixPair.slug, func.count())
        .join(
            EscalatedTicket,
            and_(
                EscalatedTicket.ticket_source == FixPair.ticket_source,
                EscalatedTicket.ticket_id == FixPair.ticket_id,
            ),
        )
        .group_by(day, FixPair.slug)
    )
    session.execute(insert(FixDay).from_select(["day", "slug", "tickets"], counted))
