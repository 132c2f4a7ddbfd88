"""Knowledge-base articles: list and read as the caller may see them; write and delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.params import Offset
from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep
from app.schemas.articles import ArticleCreate, ArticleList, ArticleOut, ArticleUpdate
from app.services import articles as service
from app.services import reviews
from app.services.visibility import visibility_for
from ingest.markdown import ArticleKind, ArticleStatus

router = APIRouter(tags=["articles"], dependencies=[Depends(current_principal)])


@router.get("/articles", response_model=ArticleList, summary="List the articles you may read")
def list_all(
    session: SessionDep,
    principal: PrincipalDep,
    team: str | None = None,
    language: str | None = None,
    kind: ArticleKind | None = None,
    status: ArticleStatus | None = Query(default=None, description="The lifecycle step."),
    stale: bool | None = Query(default=None, description="Only articles past review_by."),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> ArticleList:
    return service.list_articles(
        session,
        visibility_for(session, principal),
        team=team,
        language=language,
        kind=kind,
        status=status,
        stale=stale,
        limit=limit,
        offset=offset,
    )


@router.get("/articles/{slug}", response_model=ArticleOut, summary="One article")
def read(slug: str, session: SessionDep, principal: PrincipalDep) -> ArticleOut:
    article = service.read_article(session, slug, visibility_for(session, principal))
    return service.detail_of(session, article)


@router.post(
    "/articles",
    response_model=ArticleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an article as a draft (specialists of its team, admins)",
)
def create(body: ArticleCreate, session: SessionDep, principal: PrincipalDep) -> ArticleOut:
    with session.begin():
        article, _, _ = reviews.propose(
            session, principal=principal, slug=body.slug, markdown=body.markdown, must_be_new=True
        )
    return service.detail_of(session, article)


@router.put(
    "/articles/{slug}",
    response_model=ArticleOut,
    responses={201: {"model": ArticleOut, "description": "A new article, created as a draft."}},
    summary="Write a new version (a draft; a published article stays live until approved)",
)
def replace(
    slug: str,
    body: ArticleUpdate,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
) -> ArticleOut:
    with session.begin():
        article, _, created = reviews.propose(
            session, principal=principal, slug=slug, markdown=body.markdown, must_be_new=False
        )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return service.detail_of(session, article)


@router.delete(
    "/articles/{slug}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an article"
)
def delete(slug: str, session: SessionDep, live: LiveIndexDep, principal: PrincipalDep) -> Response:
    with session.begin():
        reviews.remove_article(session, slug, principal=principal)
    live.refresh(force=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
