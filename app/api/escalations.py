"""POST and GET /escalations: final teams of escalated tickets and the agreement rate."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.params import Offset
from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.outcomes import OutcomeIn, OutcomeList, OutcomeOut
from app.services.outcomes import list_outcomes, record_outcome

# Tagged "feedback" as before the split, so the OpenAPI document stays the same.
router = APIRouter(tags=["feedback"], dependencies=[Depends(current_principal)])


@router.post(
    "/escalations",
    response_model=OutcomeOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": OutcomeOut, "description": "The outcome was recorded before and is updated."}
    },
    summary="Record the final team of an escalated ticket against the suggested team",
)
def outcome(
    body: OutcomeIn, response: Response, session: SessionDep, principal: PrincipalDep
) -> OutcomeOut:
    with session.begin():
        out, created = record_outcome(session, principal=principal, outcome=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/escalations", response_model=OutcomeList, summary="Escalation outcomes and agreement")
def outcomes(
    session: SessionDep,
    principal: PrincipalDep,
    team: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> OutcomeList:
    return list_outcomes(session, principal=principal, team=team, limit=limit, offset=offset)
