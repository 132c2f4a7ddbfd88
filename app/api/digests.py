"""GET /digests/{team|firm}/{name}: a team's or a firm's weekly digest (docs/KPIS.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.api.params import IsoDate
from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SettingsDep
from app.schemas.digests import Audience, Digest
from app.services.digest_gaps import gap_reader
from app.services.digests import digest, last_week
from db.models import utcnow

router = APIRouter(tags=["kpis"], dependencies=[Depends(current_principal)])


@router.get(
    "/digests/{audience}/{name}",
    response_model=Digest,
    summary="The weekly digest of a team (staff) or of your own firm",
)
def get_digest(
    session: SessionDep,
    principal: PrincipalDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    audience: Audience,
    name: Annotated[str, Path(min_length=1, max_length=200)],
    week: Annotated[
        IsoDate | None, Query(description="Any day of the week (ISO date); last week.")
    ] = None,
) -> Digest:
    day = week or last_week(utcnow().date())
    reader = gap_reader(live.embedder, settings.chunk_max_words)
    return digest(session, principal, audience, name, day, gaps=reader)
