"""Articles as pages: the list the person may read, and one article with its history."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.deps import PagePrincipalDep, SessionDep
from app.schemas.versions import VersionDetail
from app.services.articles import detail_of, list_articles, read_article
from app.services.reviews import list_versions, version_detail
from app.services.visibility import visibility_for
from app.web.markup import sanitise
from app.web.render import render

router = APIRouter(include_in_schema=False)

LIST_LIMIT = 500
HISTORY_SHOWN = 20


@router.get("/articles")
def article_list(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    team: str = Query(default="", max_length=100),
    stale: bool = False,
) -> Response:
    """Everything the person may read (for a contractor: what is shared with the company)."""
    listed = list_articles(
        session,
        visibility_for(session, principal),
        team=team or None,
        language=None,
        kind=None,
        status=None,
        stale=True if stale else None,
        limit=LIST_LIMIT,
        offset=0,
    )
    return render(
        request,
        "articles.html",
        {"articles": listed.articles, "total": listed.total, "team": team, "stale": stale},
    )


@router.get("/articles/{slug}")
def article_page(
    request: Request, slug: str, session: SessionDep, principal: PagePrincipalDep
) -> Response:
    """Hidden and missing articles raise the same ArticleNotFound: the same 404 page."""
    article = read_article(session, slug, visibility_for(session, principal))
    detail = detail_of(session, article)
    history: list[VersionDetail] = []
    if principal.owns(article.team):  # versions hold drafts: owners only, as in the API
        versions = list_versions(session, principal=principal, slug=slug).versions
        history = [
            version_detail(session, principal=principal, slug=slug, number=v.number)
            for v in reversed(versions[-HISTORY_SHOWN:])
        ]
    return render(
        request,
        "article.html",
        {"article": detail, "html": sanitise(detail.html), "history": history},
    )
