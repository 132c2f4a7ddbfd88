"""The second-level workspace: my teams' articles, the review queue, stale ones, tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.auth import Principal
from app.deps import PagePrincipalDep, SessionDep
from app.schemas.articles import ArticleSummary
from app.services.articles import list_articles
from app.services.reviews import pending_versions
from app.services.tasks import close_task, list_tasks
from app.services.visibility import visibility_for
from app.web.forms import CsrfChecked
from app.web.render import render

router = APIRouter(include_in_schema=False)

LIMIT = 500


def _mine(principal: Principal, articles: list[ArticleSummary]) -> list[ArticleSummary]:
    return [a for a in articles if principal.owns(a.team)]


@router.get("/workspace")
def workspace(request: Request, session: SessionDep, principal: PagePrincipalDep) -> Response:
    principal.require("specialist", "admin")
    visibility = visibility_for(session, principal)
    listed = list_articles(
        session,
        visibility,
        team=None,
        language=None,
        kind=None,
        status=None,
        stale=None,
        limit=LIMIT,
        offset=0,
    ).articles
    tasks = list_tasks(
        session, principal=principal, team=None, status="open", limit=LIMIT, offset=0
    ).tasks
    mine = _mine(principal, listed)
    return render(
        request,
        "workspace.html",
        {
            "articles": mine,
            "stale": [a for a in mine if a.stale],
            "queue": pending_versions(session, principal=principal),
            "tasks": tasks,
        },
    )


@router.post("/tasks/{task_id}/close", dependencies=[CsrfChecked])
def close(
    task_id: int,
    session: SessionDep,
    principal: PagePrincipalDep,
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    with session.begin():
        close_task(session, principal=principal, task_id=task_id, resolution=note.strip() or None)
    return RedirectResponse("/workspace", status_code=303)
