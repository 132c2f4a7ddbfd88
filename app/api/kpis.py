"""GET /kpis: the KPI families over a time range, per team and week or month (docs/KPIS.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.params import RangeEnd, RangeStart, RangeTeam
from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.kpis import Interval, Kpis
from app.services.kpis import date_range, kpis
from app.services.kpis_csv import kpi_csv
from app.services.visibility import visibility_for
from db.models import utcnow

router = APIRouter(tags=["kpis"], dependencies=[Depends(current_principal)])


@router.get("/kpis", response_model=Kpis, summary="KPIs over a time range you may see")
def get_kpis(
    session: SessionDep,
    principal: PrincipalDep,
    start: RangeStart = None,
    end: RangeEnd = None,
    team: RangeTeam = None,
    interval: Annotated[Interval, Query(description="Bucket by week or month.")] = "week",
) -> Kpis:
    first, last = date_range(start, end, utcnow().date())
    return kpis(
        session,
        visibility_for(session, principal),
        start=first,
        end=last,
        interval=interval,
        team=team,
    )


@router.get(
    "/kpis/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary="The same KPIs as CSV, one row per figure",
)
def export_kpis(
    session: SessionDep,
    principal: PrincipalDep,
    start: RangeStart = None,
    end: RangeEnd = None,
    team: RangeTeam = None,
    interval: Annotated[Interval, Query(description="Bucket by week or month.")] = "week",
) -> Response:
    figures = get_kpis(session, principal, start, end, team, interval)
    return Response(kpi_csv(figures), media_type="text/csv; charset=utf-8")
