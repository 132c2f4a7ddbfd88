"""POST and GET /pulses: the three sides' satisfaction with a handover (docs/KPIS.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from app.api.params import RangeEnd, RangeStart, RangeTeam
from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.pulses import PulseIn, PulseOut, PulseSummary
from app.services.kpis import date_range
from app.services.pulses import pulse_summary, record_pulse
from db.models import utcnow

router = APIRouter(tags=["kpis"], dependencies=[Depends(current_principal)])


@router.post(
    "/pulses",
    response_model=PulseOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": PulseOut, "description": "Your earlier rating is replaced."}},
    summary="Rate a handover 1-5 (your side's aspect), with a comment",
)
def rate(
    body: PulseIn, response: Response, session: SessionDep, principal: PrincipalDep
) -> PulseOut:
    with session.begin():
        out, created = record_pulse(session, principal=principal, pulse=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/pulses", response_model=PulseSummary, summary="Ratings per month, team and firm")
def ratings(
    session: SessionDep,
    principal: PrincipalDep,
    start: RangeStart = None,
    end: RangeEnd = None,
    team: RangeTeam = None,
) -> PulseSummary:
    first, last = date_range(start, end, utcnow().date())
    return pulse_summary(session, principal, start=first, end=last, team=team)
