"""Resolved tickets: pushed by ticket tools, read back by id."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.deps import LiveIndexDep, SessionDep, SessionFactoryDep, SettingsDep
from app.schemas import TicketIn, TicketOut, TicketWriteResult
from app.services.tickets import get_ticket, ticket_out
from ingest.pipeline import ingest_tickets

router = APIRouter(tags=["tickets"])


@router.post(
    "/tickets",
    response_model=TicketWriteResult,
    status_code=status.HTTP_201_CREATED,
    summary="Add or update one resolved ticket (upsert by source and id)",
)
def push_ticket(
    body: TicketIn,
    response: Response,
    factory: SessionFactoryDep,
    live: LiveIndexDep,
    settings: SettingsDep,
) -> TicketWriteResult:
    report = ingest_tickets(factory, live.embedder, [body], max_words=settings.chunk_max_words)
    live.refresh(force=True)
    if not report.added:
        response.status_code = status.HTTP_200_OK
    with factory() as session:
        ticket = get_ticket(session, body.source, body.id)
        return TicketWriteResult(ticket=ticket_out(ticket), created=bool(report.added))


@router.get(
    "/tickets/{source}/{external_id}", response_model=TicketOut, summary="One resolved ticket"
)
def read_ticket(source: str, external_id: str, session: SessionDep) -> TicketOut:
    return ticket_out(get_ticket(session, source, external_id))
