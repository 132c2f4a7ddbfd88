"""Tasks that feedback opens for the owning team: list them and close them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import TaskNotFound
from app.schemas.tasks import TaskList, TaskOut
from app.services.audit import record
from db.models import Task, utcnow
from db.session import page


def _task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.id,
        team=task.team,
        status="closed" if task.status == "closed" else "open",
        reason=task.reason,
        target=task.target,
        comment=task.comment,
        created_at=task.created_at,
        closed_at=task.closed_at,
        closed_by=task.closed_by,
        resolution=task.resolution,
    )


def list_tasks(
    session: Session,
    *,
    principal: Principal,
    team: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> TaskList:
    """Specialists see their teams' tasks, admins all."""
    principal.require("specialist", "admin")
    query = select(Task)
    if not principal.is_admin:
        query = query.where(Task.team.in_(principal.teams))
    if team:
        query = query.where(Task.team == team)
    if status:
        query = query.where(Task.status == status)
    rows, total = page(session, query, Task.id, limit=limit, offset=offset)
    return TaskList(tasks=[_task_out(t) for t in rows], total=total)


def close_task(
    session: Session, *, principal: Principal, task_id: int, resolution: str | None
) -> TaskOut:
    task = session.get(Task, task_id)
    if task is None or not principal.owns(task.team):
        raise TaskNotFound(f"No task {task_id} of your teams.")
    if task.status != "closed":
        task.status = "closed"
        task.closed_at = utcnow()
        task.closed_by = principal.name
        task.resolution = resolution
        record(session, principal, "task.close", f"task:{task.id}")
    return _task_out(task)
