"""GET /training: topics to teach first level, second level and each firm (docs/KPIS.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.params import RangeEnd, RangeStart, RangeTeam
from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.training import Training
from app.services.kpis import date_range
from app.services.training import training
from app.services.visibility import visibility_for
from db.models import utcnow

router = APIRouter(tags=["kpis"], dependencies=[Depends(current_principal)])


@router.get("/training", response_model=Training, summary="Training needs you may see, ranked")
def get_training(
    session: SessionDep,
    principal: PrincipalDep,
    start: RangeStart = None,
    end: RangeEnd = None,
    team: RangeTeam = None,
) -> Training:
    first, last = date_range(start, end, utcnow().date())
    return training(session, visibility_for(session, principal), start=first, end=last, team=team)
