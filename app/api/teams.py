"""The team catalogue: who does what, when to escalate, which contractor is involved."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth import current_principal
from app.deps import SessionDep
from app.services.teams import TeamList, list_teams

router = APIRouter(tags=["teams"], dependencies=[Depends(current_principal)])


@router.get("/teams", response_model=TeamList, summary="Team catalogue from the team charters")
def list_all(session: SessionDep) -> TeamList:
    return list_teams(session)
