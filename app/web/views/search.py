"""Search as a page: filters for kind, team and language, highlighted snippets, stale marks."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.deps import LiveIndexDep, PageKeyTurn, PagePrincipalDep, SessionDep, SettingsDep
from app.schemas.search import SearchHit, SearchRequest
from app.services.events import record_search
from app.services.search import search
from app.services.teams import list_teams
from app.services.visibility import visibility_for
from app.web.forms import parse_form
from app.web.render import render

router = APIRouter(include_in_schema=False)

PAGE_HITS = 20


@dataclass(frozen=True)
class Piece:
    text: str
    marked: bool


def pieces(hit: SearchHit) -> list[Piece]:
    """The snippet cut at its highlight spans, so the template marks them (escaped)."""
    parts: list[Piece] = []
    at = 0
    for start, end in sorted(hit.highlights):
        if start < at:
            continue
        if start > at:
            parts.append(Piece(hit.snippet[at:start], False))
        parts.append(Piece(hit.snippet[start:end], True))
        at = end
    if at < len(hit.snippet):
        parts.append(Piece(hit.snippet[at:], False))
    return parts


@router.get("/search", dependencies=[PageKeyTurn])
def search_page(
    request: Request,
    session: SessionDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PagePrincipalDep,
    q: str = Query(default="", max_length=2000),
    kind: str = Query(default="", max_length=10),
    team: str = Query(default="", max_length=100),
    language: str = Query(default="", max_length=10),
) -> Response:
    visibility = visibility_for(session, principal)
    hits: list[SearchHit] = []
    if q.strip():
        body = parse_form(
            SearchRequest,
            query=q.strip(),
            k=min(PAGE_HITS, settings.search_max_k),
            filters={"kind": kind or None, "team": team or None, "language": language or None},
        )
        hits = search(session, live, body, visibility=visibility, max_k=settings.search_max_k)
        record_search(
            session,
            principal=principal,
            channel="page",
            query=body.query,
            hits=hits,
            retention_days=settings.event_retention_days,
        )
        session.commit()
    teams = [t.team for t in list_teams(session, visibility).teams]
    return render(
        request,
        "search.html",
        {
            "q": q,
            "filters": {"kind": kind, "team": team, "language": language},
            "kinds": ["article", "ticket"] if visibility.sees_tickets else ["article"],
            "teams": teams,
            "hits": [(hit, pieces(hit)) for hit in hits],
        },
    )
