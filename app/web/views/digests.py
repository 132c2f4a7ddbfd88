"""The digest pages: a chooser, and one team's or firm's weekly digest (issue 12, item 6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.params import IsoDate
from app.deps import LiveIndexDep, PagePrincipalDep, SessionDep, SettingsDep
from app.schemas.digests import Audience
from app.services.digest_gaps import gap_reader
from app.services.digests import digest, last_week
from app.services.firms import load_firms
from app.services.teams import list_teams
from app.services.visibility import visibility_for
from app.web.render import render
from db.models import utcnow

router = APIRouter(include_in_schema=False)


@router.get("/digests")
def digests(request: Request, session: SessionDep, principal: PagePrincipalDep) -> Response:
    """The teams (staff) and firms the caller may read a digest of."""
    teams = (
        [t.team for t in list_teams(session, visibility_for(session, principal)).teams]
        if principal.is_staff
        else []
    )
    firms = load_firms(session).visible(principal)
    week = last_week(utcnow().date()).isoformat()
    return render(request, "digests.html", {"teams": teams, "firms": firms, "week": week})


@router.get("/digests/{audience}/{name}")
def digest_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    audience: Audience,
    name: str,
    week: Annotated[IsoDate | None, Query()] = None,
) -> Response:
    day = week or last_week(utcnow().date())
    reader = gap_reader(live.embedder, settings.chunk_max_words)
    found = digest(session, principal, audience, name, day, gaps=reader)
    return render(request, "digest.html", {"digest": found})
