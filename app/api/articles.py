"""Knowledge-base articles: list, read, create, replace, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SettingsDep
from app.schemas import ArticleCreate, ArticleList, ArticleOut, ArticleUpdate
from app.services.articles import (
    detail_of,
    get_article,
    list_articles,
    remove_article,
    write_article,
)

router = APIRouter(tags=["articles"], dependencies=[Depends(current_principal)])


@router.get("/articles", response_model=ArticleList, summary="List articles")
def list_all(
    session: SessionDep,
    team: str | None = None,
    language: str | None = None,
    kind: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> ArticleList:
    return list_articles(
        session, team=team, language=language, kind=kind, limit=limit, offset=offset
    )


@router.get("/articles/{slug}", response_model=ArticleOut, summary="One article")
def read(slug: str, session: SessionDep) -> ArticleOut:
    return detail_of(get_article(session, slug))


@router.post(
    "/articles",
    response_model=ArticleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an article from markdown with front matter",
)
def create(
    body: ArticleCreate,
    session: SessionDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ArticleOut:
    with session.begin():
        article, _ = write_article(
            session,
            principal=principal,
            slug=body.slug,
            markdown=body.markdown,
            embedder=live.embedder,
            max_words=settings.chunk_max_words,
            must_be_new=True,
        )
    live.refresh(force=True)
    return detail_of(article)


@router.put("/articles/{slug}", response_model=ArticleOut, summary="Create or replace an article")
def replace(
    slug: str,
    body: ArticleUpdate,
    response: Response,
    session: SessionDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ArticleOut:
    with session.begin():
        article, created = write_article(
            session,
            principal=principal,
            slug=slug,
            markdown=body.markdown,
            embedder=live.embedder,
            max_words=settings.chunk_max_words,
            must_be_new=False,
        )
    live.refresh(force=True)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return detail_of(article)


@router.delete(
    "/articles/{slug}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an article"
)
def delete(slug: str, session: SessionDep, live: LiveIndexDep, principal: PrincipalDep) -> Response:
    with session.begin():
        remove_article(session, slug, principal=principal)
    live.refresh(force=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
