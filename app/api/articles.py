"""Knowledge-base articles: list and read as the caller may see them; write through review."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SettingsDep
from app.schemas.articles import ArticleCreate, ArticleList, ArticleOut, ArticleUpdate
from app.schemas.versions import VersionDetail, VersionList
from app.services import articles as service
from app.services.visibility import visibility_for

router = APIRouter(tags=["articles"], dependencies=[Depends(current_principal)])


@router.get("/articles", response_model=ArticleList, summary="List the articles you may read")
def list_all(
    session: SessionDep,
    principal: PrincipalDep,
    team: str | None = None,
    language: str | None = None,
    kind: str | None = None,
    status: str | None = Query(default=None, description="draft, in_review, published, archived"),
    stale: bool | None = Query(default=None, description="Only articles past review_by."),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> ArticleList:
    service.check_status(status)
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
        article, _, _ = service.propose(
            session, principal=principal, slug=body.slug, markdown=body.markdown, must_be_new=True
        )
    return service.detail_of(session, article)


@router.put(
    "/articles/{slug}",
    response_model=ArticleOut,
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
        article, _, created = service.propose(
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
        service.remove_article(session, slug, principal=principal)
    live.refresh(force=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/articles/{slug}/versions", response_model=VersionList, summary="Versions (owners)")
def versions(slug: str, session: SessionDep, principal: PrincipalDep) -> VersionList:
    return service.list_versions(session, principal=principal, slug=slug)


@router.get(
    "/articles/{slug}/versions/{number}",
    response_model=VersionDetail,
    summary="One version with its markdown and diff (owners)",
)
def version(slug: str, number: int, session: SessionDep, principal: PrincipalDep) -> VersionDetail:
    return service.version_detail(session, principal=principal, slug=slug, number=number)


@router.post(
    "/articles/{slug}/versions/{number}/submit",
    response_model=ArticleOut,
    summary="Send a draft to review (its author or an owner)",
)
def submit(slug: str, number: int, session: SessionDep, principal: PrincipalDep) -> ArticleOut:
    with session.begin():
        article = service.submit(session, principal=principal, slug=slug, number=number)
    return service.detail_of(session, article)


@router.post(
    "/articles/{slug}/versions/{number}/publish",
    response_model=ArticleOut,
    summary="Approve and publish a version (an owner other than its author)",
)
def publish(
    slug: str,
    number: int,
    session: SessionDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ArticleOut:
    with session.begin():
        article = service.publish(
            session,
            principal=principal,
            slug=slug,
            number=number,
            embedder=live.embedder,
            max_words=settings.chunk_max_words,
        )
    live.refresh(force=True)
    return service.detail_of(session, article)


@router.post(
    "/articles/{slug}/versions/{number}/reject",
    response_model=ArticleOut,
    summary="Send a version in review back to draft (owners)",
)
def reject(slug: str, number: int, session: SessionDep, principal: PrincipalDep) -> ArticleOut:
    with session.begin():
        article = service.reject(session, principal=principal, slug=slug, number=number)
    return service.detail_of(session, article)


@router.post(
    "/articles/{slug}/versions/{number}/restore",
    response_model=VersionDetail,
    status_code=status.HTTP_201_CREATED,
    summary="A new draft with an old version's content (owners)",
)
def restore(slug: str, number: int, session: SessionDep, principal: PrincipalDep) -> VersionDetail:
    with session.begin():
        version = service.restore(session, principal=principal, slug=slug, number=number)
        new_number = version.number
    return service.version_detail(session, principal=principal, slug=slug, number=new_number)


@router.post(
    "/articles/{slug}/archive",
    response_model=ArticleOut,
    summary="Archive: the article leaves every search (owners)",
)
def archive(
    slug: str, session: SessionDep, live: LiveIndexDep, principal: PrincipalDep
) -> ArticleOut:
    with session.begin():
        article = service.archive_article(session, principal=principal, slug=slug)
    live.refresh(force=True)
    return service.detail_of(session, article)
