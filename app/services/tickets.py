"""Read and write resolved tickets."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import TicketNotFound
from app.schemas.tickets import TicketOut
from app.services.refs import ticket_link
from db.models import Ticket


def ticket_out(ticket: Ticket) -> TicketOut:
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
    )


def get_ticket(session: Session, source: str, external_id: str) -> Ticket:
    ticket = session.scalar(
        select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id)
    )
    if ticket is None:
        raise TicketNotFound(f"No ticket {external_id!r} from source {source!r}.")
    return ticket
