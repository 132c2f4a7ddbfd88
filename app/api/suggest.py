"""POST /suggest: proven solutions, a team and the escalation decision for a new ticket."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from app.auth import PrincipalDep, current_principal
from app.deps import KeyTurn, LiveIndexDep, RouterDep, SessionDep, SettingsDep
from app.schemas.suggest import SuggestRequest, SuggestResponse
from app.services.events import record_suggestion
from app.services.suggest import suggest_as_configured
from app.services.visibility import visibility_for

router = APIRouter(tags=["suggest"], dependencies=[Depends(current_principal), KeyTurn])


@router.post("/suggest", response_model=SuggestResponse, summary="Suggest solutions and a team")
def suggest(
    body: SuggestRequest,
    session: SessionDep,
    live: LiveIndexDep,
    team_router: RouterDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> SuggestResponse:
    started = time.perf_counter()
    result = suggest_as_configured(
        session,
        live,
        team_router,
        body,
        settings,
        visibility=visibility_for(session, principal),
    )
    ticket = (body.ticket_source, body.ticket_id) if body.ticket_source and body.ticket_id else None
    record_suggestion(
        session,
        principal=principal,
        channel="api",
        suggestion=result,
        ticket=ticket,
        retention_days=settings.event_retention_days,
    )
    session.commit()
    return SuggestResponse(
        solutions=result.solutions,
        team=result.team,
        escalation=result.escalation,
        evidence=result.evidence,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
    )
