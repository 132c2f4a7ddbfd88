"""GET /gaps: clusters of tickets and searches no published article covers; drafting one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from app.api.params import IsoDate, RangeEnd, RangeStart
from app.auth import Principal, PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SettingsDep
from app.schemas.gaps import GapDraft, GapList
from app.services.gaps import find_gap, mine_gaps, ticket_document_encoder
from app.services.gaps_draft import draft_from_gap
from app.services.kpis import date_range
from app.services.visibility import visibility_for
from app.settings import Settings
from db.models import utcnow
from ingest.live_index import LiveIndex

router = APIRouter(tags=["gaps"], dependencies=[Depends(current_principal)])

Team = Annotated[
    str | None, Query(min_length=1, max_length=100, description="Only this team's tickets.")
]


def _mine(
    session: Session,
    principal: Principal,
    live: LiveIndex,
    settings: Settings,
    start: IsoDate | None,
    end: IsoDate | None,
    team: str | None,
) -> GapList:
    first, last = date_range(start, end, utcnow().date())
    return mine_gaps(
        session,
        visibility_for(session, principal),
        start=first,
        end=last,
        team=team,
        model_id=live.embedder.model_id,
        encode=ticket_document_encoder(live.embedder, settings.chunk_max_words),
    )


@router.get("/gaps", response_model=GapList, summary="Knowledge gaps in a range you may see")
def list_gaps(
    session: SessionDep,
    principal: PrincipalDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    start: RangeStart = None,
    end: RangeEnd = None,
    team: Team = None,
) -> GapList:
    return _mine(session, principal, live, settings, start, end, team)


@router.post(
    "/gaps/{key}/draft",
    response_model=GapDraft,
    status_code=status.HTTP_201_CREATED,
    summary="Draft an article from a gap into its team's review queue (its specialists, admins)",
)
def draft_gap(
    key: str,
    session: SessionDep,
    principal: PrincipalDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    start: RangeStart = None,
    end: RangeEnd = None,
    team: Team = None,
) -> GapDraft:
    gap = find_gap(_mine(session, principal, live, settings, start, end, team), key)
    draft = draft_from_gap(session, principal=principal, gap=gap)
    session.commit()
    return draft
