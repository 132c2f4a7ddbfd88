"""Keeping `FirstSuggestion` (a ticket's first suggestion, of anyone and of each firm)
equal to the events: routing accuracy bands each outcome of a range by it with one
primary-key probe, where it grouped the ticket's events per outcome before.

A new suggestion of a ticket is one UPSERT per row it may start (anyone's, and its firm's)
that keeps the lower event id, so two requests committing out of order still leave the
first; the retention prune recomputes the rows whose event it deletes from the events
that stay; `rebuild_first_suggestions` recomputes all of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from db.models import FirstSuggestion, SuggestionEvent
from db.rollup_sql import dialect_module

ANYONE = ""


def suggested(session: Session, event: SuggestionEvent) -> None:
    """A new suggestion: the first of its ticket (and of its firm's) unless one is older."""
    if event.ticket_source is None or event.ticket_id is None:
        return
    companies = [ANYONE, *([event.company] if event.company else [])]
    rows = [
        {
            "ticket_source": event.ticket_source,
            "ticket_id": event.ticket_id,
            "company": company,
            "event_id": event.id,
            "confidence": event.confidence,
        }
        for company in companies
    ]
    table = FirstSuggestion.__table__
    statement = dialect_module(session).insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["ticket_source", "ticket_id", "company"],
        set_={
            "event_id": statement.excluded.event_id,
            "confidence": statement.excluded.confidence,
        },
        where=statement.excluded.event_id < table.c.event_id,
    )
    session.execute(statement)


def _firsts(scope: ColumnElement[bool]) -> Any:
    """(source, ticket, company, event id, confidence) of the first suggestions among the
    events `scope` selects, anyone's and each firm's."""
    event = SuggestionEvent
    of_ticket = (event.ticket_source.is_not(None), event.ticket_id.is_not(None), scope)
    anyone = (
        select(event.ticket_source, event.ticket_id, literal(ANYONE), func.min(event.id))
        .where(*of_ticket)
        .group_by(event.ticket_source, event.ticket_id)
    )
    firm = (
        select(event.ticket_source, event.ticket_id, event.company, func.min(event.id))
        .where(*of_ticket, event.company.is_not(None))
        .group_by(event.ticket_source, event.ticket_id, event.company)
    )
    first = union_all(anyone, firm).subquery()
    source, ticket, company, event_id = first.c
    # The WHERE keeps SQLite from reading an INSERT's ON CONFLICT as the join's ON.
    return (
        select(source, ticket, company, event_id, SuggestionEvent.confidence)
        .join(SuggestionEvent, SuggestionEvent.id == event_id)
        .where(event_id.is_not(None))
    )


COLUMNS = ["ticket_source", "ticket_id", "company", "event_id", "confidence"]


def forget_first_suggestions_before(session: Session, cutoff: datetime) -> None:
    """Before the events older than `cutoff` are deleted: the rows naming one of them
    start again from the events of their ticket that stay."""
    event = SuggestionEvent
    old = event.at < cutoff
    session.execute(
        delete(FirstSuggestion).where(FirstSuggestion.event_id.in_(select(event.id).where(old)))
    )
    affected = (
        select(event.ticket_source, event.ticket_id)
        .where(old, event.ticket_id.is_not(None))
        .distinct()
    )
    stays = (event.at >= cutoff) & tuple_(event.ticket_source, event.ticket_id).in_(affected)
    # A row that stayed names an event that stays, still the first of the rest.
    session.execute(
        dialect_module(session)
        .insert(FirstSuggestion)
        .from_select(COLUMNS, _firsts(stays))
        .on_conflict_do_nothing()
    )


def rebuild_first_suggestions(session: Session) -> None:
    """Recompute every ticket's first suggestions from the events."""
    session.execute(delete(FirstSuggestion))
    session.execute(insert(FirstSuggestion).from_select(COLUMNS, _firsts(true())))
