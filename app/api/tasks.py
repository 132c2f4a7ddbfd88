"""GET /tasks and POST /tasks/{id}/close: the owning teams' work opened by feedback."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from app.api.params import Offset, TaskId
from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.tasks import TaskClose, TaskList, TaskOut
from app.services.tasks import close_task, list_tasks

# Tagged "feedback" as before the split, so the OpenAPI document stays the same.
router = APIRouter(tags=["feedback"], dependencies=[Depends(current_principal)])


@router.get("/tasks", response_model=TaskList, summary="Tasks of your teams (admins: all)")
def tasks(
    session: SessionDep,
    principal: PrincipalDep,
    team: str | None = None,
    status: str | None = Query(default=None, pattern="^(open|closed)$"),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> TaskList:
    return list_tasks(
        session, principal=principal, team=team, status=status, limit=limit, offset=offset
    )


@router.post("/tasks/{task_id}/close", response_model=TaskOut, summary="Close a task")
def close(
    task_id: TaskId, session: SessionDep, principal: PrincipalDep, body: TaskClose | None = None
) -> TaskOut:
    with session.begin():
        return close_task(
            session,
            principal=principal,
            task_id=task_id,
            resolution=body.resolution if body else None,
        )
