"""Writing articles from the pages: the markdown editor with preview, and the review steps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.deps import LiveIndexDep, PagePrincipalDep, SessionDep, SessionFactoryDep, SettingsDep
from app.services import reviews
from app.services.articles import detail_of, preview_html
from app.web.forms import CsrfChecked
from app.web.markup import sanitise
from app.web.render import render
from db.session import transaction

router = APIRouter(include_in_schema=False)

MAX_MARKDOWN = 200_000
NEW_ARTICLE = """---
title: ""
kind: article
team: {team}
audience: internal
language: de
tags: []
---

## Problem

## Lösung

1.
"""


def _editor(
    request: Request, *, slug: str, markdown: str, new: bool, status: int = 200
) -> Response:
    return render(
        request,
        "editor.html",
        {
            "slug": slug,
            "markdown": markdown,
            "preview": sanitise(preview_html(markdown)),
            "new": new,
        },
        status=status,
    )


@router.get("/articles/new")
def new_article(request: Request, principal: PagePrincipalDep) -> Response:
    principal.require("specialist", "admin")
    team = principal.teams[0] if principal.teams else "workplace"
    return _editor(request, slug="", markdown=NEW_ARTICLE.format(team=team), new=True)


@router.get("/articles/{slug}/edit")
def edit_article(
    request: Request, slug: str, session: SessionDep, principal: PagePrincipalDep
) -> Response:
    """The newest version's source (a pending draft, else the live article); owners only."""
    article = reviews.editable_article(session, principal=principal, slug=slug)
    detail = detail_of(session, article)
    markdown = detail.markdown
    if detail.pending_version is not None:
        markdown = reviews.version_detail(
            session, principal=principal, slug=slug, number=detail.pending_version
        ).markdown
    return _editor(request, slug=slug, markdown=markdown, new=False)


@router.post("/preview", dependencies=[CsrfChecked])
def preview(
    request: Request,
    principal: PagePrincipalDep,
    markdown: Annotated[str, Form(max_length=MAX_MARKDOWN)] = "",
) -> Response:
    """The live preview (htmx swaps it in as the person types)."""
    return render(request, "preview_fragment.html", {"preview": sanitise(preview_html(markdown))})


Action = Annotated[Literal["preview", "save"], Form()]
Markdown = Annotated[str, Form(max_length=MAX_MARKDOWN)]


def _save(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    *,
    slug: str,
    markdown: str,
    action: str,
    new: bool,
) -> Response:
    """Preview (without JavaScript) or write a new version: a draft, as the API writes it."""
    if action == "preview":
        return _editor(request, slug=slug, markdown=markdown, new=new)
    with session.begin():
        reviews.propose(session, principal=principal, slug=slug, markdown=markdown, must_be_new=new)
    return RedirectResponse(f"/articles/{slug}", status_code=303)


@router.post("/articles/new", dependencies=[CsrfChecked])
def create_article(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    markdown: Markdown,
    slug: Annotated[str, Form(max_length=200, pattern=r"^[a-z0-9][a-z0-9-]*$")],
    action: Action = "save",
) -> Response:
    return _save(request, session, principal, slug=slug, markdown=markdown, action=action, new=True)


@router.post("/articles/{slug}/edit", dependencies=[CsrfChecked])
def write_version(
    request: Request,
    slug: str,
    session: SessionDep,
    principal: PagePrincipalDep,
    markdown: Markdown,
    action: Action = "save",
) -> Response:
    return _save(
        request, session, principal, slug=slug, markdown=markdown, action=action, new=False
    )


@router.post("/articles/{slug}/versions/{number}/{step}", dependencies=[CsrfChecked])
def review_step(
    slug: str,
    number: int,
    step: Literal["submit", "publish", "reject"],
    factory: SessionFactoryDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PagePrincipalDep,
) -> Response:
    """Submit for review, approve (an owner other than the author), or send back."""
    if step == "publish":
        reviews.publish(
            factory,
            principal=principal,
            slug=slug,
            number=number,
            embedder=live.embedder,
            max_words=settings.chunk_max_words,
            second=live.second_embedder,
        )
        live.refresh(force=True)  # searchable at once, as after the API's publish
    else:
        move = reviews.submit if step == "submit" else reviews.reject
        with transaction(factory) as session:
            move(session, principal=principal, slug=slug, number=number)
    return RedirectResponse(f"/articles/{slug}", status_code=303)
