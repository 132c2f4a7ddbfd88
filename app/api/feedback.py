"""Feedback, tasks for owning teams, solution links (reuse) and escalation outcomes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.feedback import FeedbackIn, FeedbackOut
from app.schemas.links import LinkIn, LinkList, LinkOut
from app.schemas.outcomes import OutcomeIn, OutcomeList, OutcomeOut
from app.schemas.tasks import TaskClose, TaskList, TaskOut
from app.services import feedback as service
from app.services.visibility import visibility_for

router = APIRouter(tags=["feedback"], dependencies=[Depends(current_principal)])


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    summary="Helpful or not on a suggestion or article; not helpful or a flag opens a task",
)
def give(body: FeedbackIn, session: SessionDep, principal: PrincipalDep) -> FeedbackOut:
    with session.begin():
        return service.give_feedback(
            session,
            principal=principal,
            visibility=visibility_for(session, principal),
            feedback=body,
        )


@router.get("/tasks", response_model=TaskList, summary="Tasks of your teams (admins: all)")
def tasks(
    session: SessionDep,
    principal: PrincipalDep,
    team: str | None = None,
    status: str | None = Query(default=None, pattern="^(open|closed)$"),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> TaskList:
    return service.list_tasks(
        session, principal=principal, team=team, status=status, limit=limit, offset=offset
    )


@router.post("/tasks/{task_id}/close", response_model=TaskOut, summary="Close a task")
def close(
    task_id: int, session: SessionDep, principal: PrincipalDep, body: TaskClose | None = None
) -> TaskOut:
    with session.begin():
        return service.close_task(
            session,
            principal=principal,
            task_id=task_id,
            resolution=body.resolution if body else None,
        )


@router.post(
    "/links",
    response_model=LinkOut,
    status_code=status.HTTP_201_CREATED,
    summary="A resolved ticket was solved by an article (counts as reuse)",
)
def link(body: LinkIn, response: Response, session: SessionDep, principal: PrincipalDep) -> LinkOut:
    with session.begin():
        out, created = service.link_solution(
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
    offset: int = Query(default=0, ge=0),
) -> LinkList:
    return service.list_links(
        session, principal=principal, article_slug=article, limit=limit, offset=offset
    )


@router.post(
    "/escalations",
    response_model=OutcomeOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record the final team of an escalated ticket against the suggested team",
)
def outcome(
    body: OutcomeIn, response: Response, session: SessionDep, principal: PrincipalDep
) -> OutcomeOut:
    with session.begin():
        out, created = service.record_outcome(session, principal=principal, outcome=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/escalations", response_model=OutcomeList, summary="Escalation outcomes and agreement")
def outcomes(
    session: SessionDep,
    principal: PrincipalDep,
    team: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> OutcomeList:
    return service.list_outcomes(
        session, principal=principal, team=team, limit=limit, offset=offset
    )
