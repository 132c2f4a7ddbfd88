"""POST /suggest: proven solutions, a team and the escalation decision for a new ticket."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from app.auth import current_principal
from app.deps import LiveIndexDep, SessionDep, SettingsDep
from app.schemas import SuggestRequest, SuggestResponse
from app.services.suggest import suggest as suggest_for_ticket

router = APIRouter(tags=["suggest"], dependencies=[Depends(current_principal)])


@router.post("/suggest", response_model=SuggestResponse, summary="Suggest solutions and a team")
def suggest(
    body: SuggestRequest, session: SessionDep, live: LiveIndexDep, settings: SettingsDep
) -> SuggestResponse:
    started = time.perf_counter()
    solutions, team, escalation = suggest_for_ticket(
        session,
        live,
        body,
        solutions=settings.suggest_solutions,
        neighbours=settings.routing_neighbours,
        min_confidence=settings.routing_min_confidence,
    )
    return SuggestResponse(
        solutions=solutions,
        team=team,
        escalation=escalation,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
    )
