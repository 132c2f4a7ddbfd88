"""Article versions and the review workflow: submit, publish, reject, restore, archive."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from app.api.params import VersionNumber
from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SessionFactoryDep, SettingsDep
from app.schemas.articles import ArticleOut
from app.schemas.versions import VersionDetail, VersionList
from app.services import articles, reviews

router = APIRouter(tags=["articles"], dependencies=[Depends(current_principal)])


@router.get("/articles/{slug}/versions", response_model=VersionList, summary="Versions (owners)")
def versions(slug: str, session: SessionDep, principal: PrincipalDep) -> VersionList:
    return reviews.list_versions(session, principal=principal, slug=slug)


@router.get(
    "/articles/{slug}/versions/{number}",
    response_model=VersionDetail,
    summary="One version with its markdown and diff (owners)",
)
def version(
    slug: str, number: VersionNumber, session: SessionDep, principal: PrincipalDep
) -> VersionDetail:
    return reviews.version_detail(session, principal=principal, slug=slug, number=number)


@router.post(
    "/articles/{slug}/versions/{number}/submit",
    response_model=ArticleOut,
    summary="Send a draft to review (its author or an owner)",
)
def submit(
    slug: str, number: VersionNumber, session: SessionDep, principal: PrincipalDep
) -> ArticleOut:
    with session.begin():
        article = reviews.submit(session, principal=principal, slug=slug, number=number)
    return articles.detail_of(session, article)


@router.post(
    "/articles/{slug}/versions/{number}/publish",
    response_model=ArticleOut,
    summary="Approve and publish a version (an owner other than its author)",
)
def publish(
    slug: str,
    number: VersionNumber,
    factory: SessionFactoryDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ArticleOut:
    reviews.publish(
        factory,
        principal=principal,
        slug=slug,
        number=number,
        embedder=live.embedder,
        max_words=settings.chunk_max_words,
        second=live.second_embedder,
    )
    live.refresh(force=True)
    with factory() as session:
        return articles.detail_of(session, articles.get_article(session, slug))


@router.post(
    "/articles/{slug}/versions/{number}/reject",
    response_model=ArticleOut,
    summary="Send a version in review back to draft (owners)",
)
def reject(
    slug: str, number: VersionNumber, session: SessionDep, principal: PrincipalDep
) -> ArticleOut:
    with session.begin():
        article = reviews.reject(session, principal=principal, slug=slug, number=number)
    return articles.detail_of(session, article)


@router.post(
    "/articles/{slug}/versions/{number}/restore",
    response_model=VersionDetail,
    status_code=status.HTTP_201_CREATED,
    summary="A new draft with an old version's content (owners)",
)
def restore(
    slug: str, number: VersionNumber, session: SessionDep, principal: PrincipalDep
) -> VersionDetail:
    with session.begin():
        version = reviews.restore(session, principal=principal, slug=slug, number=number)
        new_number = version.number
    return reviews.version_detail(session, principal=principal, slug=slug, number=new_number)


@router.post(
    "/articles/{slug}/archive",
    response_model=ArticleOut,
    summary="Archive: the article leaves every search (owners)",
)
def archive(
    slug: str, session: SessionDep, live: LiveIndexDep, principal: PrincipalDep
) -> ArticleOut:
    with session.begin():
        article = reviews.archive_article(session, principal=principal, slug=slug)
    live.refresh(force=True)
    return articles.detail_of(session, article)
