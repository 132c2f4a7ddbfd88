"""The first-level console: a ticket in, the suggestion as a page (fix, team, escalation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.deps import (
    LiveIndexDep,
    PageKeyTurn,
    PagePrincipalDep,
    RouterDep,
    SessionDep,
    SettingsDep,
)
from app.errors import NotFound
from app.schemas.suggest import Solution, SuggestRequest
from app.services.articles import detail_of, read_article
from app.services.events import record_suggestion
from app.services.suggest import Suggestion, suggest_as_configured
from app.services.visibility import visibility_for
from app.web.forms import CsrfChecked, parse_form, ticket_reference
from app.web.markup import sanitise
from app.web.render import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class InlineArticle:
    """An article shown inside the suggestion page with its steps."""

    slug: str
    title: str
    html: str
    stale: bool
    proven: bool


@router.get("/")
def console(request: Request, principal: PagePrincipalDep) -> Response:
    return render(request, "console.html", {"ticket": None})


def _inline(
    session: SessionDep, principal: PagePrincipalDep, result: Suggestion
) -> InlineArticle | None:
    """The proven first-level fix; else the best-ranked article, marked as not proven."""
    proven = result.escalation.solution
    slug = proven.slug if proven else None
    if slug is None:
        slug = next(
            (s.id.removeprefix("article:") for s in result.solutions if s.kind == "article"), None
        )
    if slug is None:
        return None
    try:
        article = read_article(session, slug, visibility_for(session, principal))
    except NotFound:  # changed since the index caught up
        return None
    detail = detail_of(session, article)
    return InlineArticle(
        slug, detail.title, sanitise(detail.html), detail.stale, proven is not None
    )


@router.post("/suggest", dependencies=[CsrfChecked, PageKeyTurn])
def suggestion(
    request: Request,
    session: SessionDep,
    live: LiveIndexDep,
    team_router: RouterDep,
    settings: SettingsDep,
    principal: PagePrincipalDep,
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=50_000)] = "",
    ticket_ref: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """The same service as POST /api/v1/suggest, under the same visibility, as a page."""
    body = parse_form(SuggestRequest, title=title.strip(), description=description.strip())
    result = suggest_as_configured(
        session,
        live,
        team_router,
        body,
        settings,
        visibility=visibility_for(session, principal),
    )
    articles: list[Solution] = [s for s in result.solutions if s.kind == "article"]
    tickets: list[Solution] = [s for s in result.solutions if s.kind == "ticket"]
    reference = ticket_reference(ticket_ref)
    record_suggestion(
        session,
        principal=principal,
        channel="page",
        suggestion=result,
        ticket=reference,
        retention_days=settings.event_retention_days,
    )
    session.commit()
    return render(
        request,
        "suggestion.html",
        {
            "ticket": {"title": body.title, "description": body.description, "ref": ticket_ref},
            "reference": reference,
            "result": result,
            "fix": _inline(session, principal, result),
            "articles": articles,
            "tickets": tickets,
            "query": f"{body.title}\n{body.description}".strip(),
        },
    )
