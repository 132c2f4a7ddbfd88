"""GET /stats: counts for KPIs, over exactly what the caller may see."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.stats import Stats
from app.services.stats import knowledge_stats
from app.services.visibility import visibility_for

router = APIRouter(tags=["stats"], dependencies=[Depends(current_principal)])


@router.get("/stats", response_model=Stats, summary="Knowledge-base KPIs you may see")
def stats(session: SessionDep, principal: PrincipalDep) -> Stats:
    return knowledge_stats(session, visibility_for(session, principal))
