"""Resolved tickets: pushed by ticket tools, read back by id."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SessionFactoryDep, SettingsDep
from app.schemas.tickets import TicketIn, TicketOut, TicketWriteResult
from app.services import tickets as ticket_service
from app.services.tickets import ticket_out

router = APIRouter(tags=["tickets"], dependencies=[Depends(current_principal)])


@router.post(
    "/tickets",
    response_model=TicketWriteResult,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": TicketWriteResult, "description": "The ticket existed and was updated."}
    },
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
    result = ticket_service.push_ticket(
        factory, live, body, principal=principal, max_words=settings.chunk_max_words
    )
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get(
    "/tickets/{source}/{external_id}",
    response_model=TicketOut,
    summary="One resolved ticket (not for contractors)",
)
def read_ticket(
    source: str, external_id: str, session: SessionDep, principal: PrincipalDep
) -> TicketOut:
    return ticket_out(ticket_service.read_ticket(session, principal, source, external_id))
