"""Read and write resolved tickets."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, sessionmaker

from app.auth import Principal
from app.errors import TicketNotFound
from app.schemas.tickets import TicketOut, TicketWriteResult
from app.services.audit import record
from app.services.refs import ticket_id, ticket_link
from app.services.tool_links import tool_links
from db.models import Ticket
from db.session import transaction
from ingest.live_index import LiveIndex
from ingest.pipeline import ingest_tickets
from ingest.tickets import ResolvedTicket


def ticket_out(ticket: Ticket) -> TicketOut:
    session = object_session(ticket)
    ref = (ticket.source, ticket.external_id)
    tool_link = tool_links(session, [ref]).get(ref) if session is not None else None
    return TicketOut(
        id=ticket.external_id,
        source=ticket.source,
        title=ticket.title,
        description=ticket.description,
        resolution=ticket.resolution,
        team=ticket.team,
        language=ticket.language,
        tags=list(ticket.tags),
        created_at=ticket.created_at,
        resolved_at=ticket.resolved_at,
        link=ticket_link(ticket.source, ticket.external_id),
        tool_link=tool_link,
    )


def get_ticket(session: Session, source: str, external_id: str) -> Ticket:
    ticket = session.scalar(
        select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id)
    )
    if ticket is None:
        raise TicketNotFound(f"No ticket {external_id!r} from source {source!r}.")
    return ticket


def read_ticket(session: Session, principal: Principal, source: str, external_id: str) -> Ticket:
    """A stored ticket; tickets are internal, so contractors learn nothing, not even 403."""
    if not principal.is_staff:
        raise TicketNotFound(f"No ticket {external_id!r} from source {source!r}.")
    return get_ticket(session, source, external_id)


def push_ticket(
    factory: sessionmaker[Session],
    live: LiveIndex,
    ticket: ResolvedTicket,
    *,
    principal: Principal,
    max_words: int,
) -> TicketWriteResult:
    """Upsert one resolved ticket by (source, id), audited, searchable when this returns."""
    principal.require("integration", "admin")
    report = ingest_tickets(
        factory, live.embedder, [ticket], max_words=max_words, second=live.second_embedder
    )
    with transaction(factory) as session:
        action = "ticket.create" if report.added else "ticket.update"
        if report.added or report.updated:
            record(session, principal, action, ticket_id(ticket.source, ticket.id))
    live.refresh(force=True)
    with factory() as session:
        stored = get_ticket(session, ticket.source, ticket.id)
        return TicketWriteResult(ticket=ticket_out(stored), created=bool(report.added))
