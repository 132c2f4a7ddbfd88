"""POST and GET /links: resolved tickets solved by an article (reuse)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.params import Offset
from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.links import LinkIn, LinkList, LinkOut
from app.services.links import link_solution, list_links
from app.services.visibility import visibility_for

# Tagged "feedback" as before the split, so the OpenAPI document stays the same.
router = APIRouter(tags=["feedback"], dependencies=[Depends(current_principal)])


@router.post(
    "/links",
    response_model=LinkOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": LinkOut, "description": "The link existed already; nothing changed."}
    },
    summary="A resolved ticket was solved by an article (counts as reuse)",
)
def link(body: LinkIn, response: Response, session: SessionDep, principal: PrincipalDep) -> LinkOut:
    with session.begin():
        out, created = link_solution(
            session, principal=principal, visibility=visibility_for(session, principal), link=body
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/links", response_model=LinkList, summary="Solution links (reuse of articles)")
def links(
    session: SessionDep,
    principal: PrincipalDep,
    article: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> LinkList:
    return list_links(
        session,
        principal=principal,
        visibility=visibility_for(session, principal),
        article_slug=article,
        limit=limit,
        offset=offset,
    )
