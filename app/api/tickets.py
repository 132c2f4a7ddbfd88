"""Resolved tickets: pushed by ticket tools, read back by id."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SessionFactoryDep, SettingsDep
from app.errors import TicketNotFound
from app.schemas.tickets import TicketIn, TicketOut, TicketWriteResult
from app.services.audit import record
from app.services.refs import ticket_id
from app.services.tickets import get_ticket, ticket_out
from db.session import transaction
from ingest.pipeline import ingest_tickets

router = APIRouter(tags=["tickets"], dependencies=[Depends(current_principal)])


@router.post(
    "/tickets",
    response_model=TicketWriteResult,
    status_code=status.HTTP_201_CREATED,
    summary="Add or update one resolved ticket (upsert by source and id; integrations, admins)",
)
def push_ticket(
    body: TicketIn,
    response: Response,
    factory: SessionFactoryDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> TicketWriteResult:
    principal.require("integration", "admin")
    report = ingest_tickets(factory, live.embedder, [body], max_words=settings.chunk_max_words)
    with transaction(factory) as session:
        action = "ticket.create" if report.added else "ticket.update"
        if report.added or report.updated:
            record(session, principal, action, ticket_id(body.source, body.id))
    live.refresh(force=True)
    if not report.added:
        response.status_code = status.HTTP_200_OK
    with factory() as session:
        ticket = get_ticket(session, body.source, body.id)
        return TicketWriteResult(ticket=ticket_out(ticket), created=bool(report.added))


@router.get(
    "/tickets/{source}/{external_id}",
    response_model=TicketOut,
    summary="One resolved ticket (not for contractors)",
)
def read_ticket(
    source: str, external_id: str, session: SessionDep, principal: PrincipalDep
) -> TicketOut:
    if not principal.is_staff:  # tickets are internal: contractors learn nothing, not even 403
        raise TicketNotFound(f"No ticket {external_id!r} from source {source!r}.")
    return ticket_out(get_ticket(session, source, external_id))
