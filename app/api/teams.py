"""The team catalogue: who does what, when to escalate, which contractor is involved."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.teams import TeamList
from app.services.teams import list_teams
from app.services.visibility import visibility_for

router = APIRouter(tags=["teams"], dependencies=[Depends(current_principal)])


@router.get("/teams", response_model=TeamList, summary="Team catalogue from the team charters")
def list_all(session: SessionDep, principal: PrincipalDep) -> TeamList:
    return list_teams(session, visibility_for(session, principal))
