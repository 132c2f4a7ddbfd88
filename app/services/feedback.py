"""Feedback between the levels: helpful or not, tasks for owning teams, reuse, final teams."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import ArticleNotFound, InvalidInput, TaskNotFound, TicketNotFound
from app.schemas.feedback import FeedbackIn, FeedbackOut
from app.schemas.links import LinkIn, LinkList, LinkOut
from app.schemas.outcomes import OutcomeIn, OutcomeList, OutcomeOut
from app.schemas.tasks import TaskList, TaskOut
from app.services.audit import record
from app.services.refs import article_id
from app.services.visibility import Visibility
from db.models import (
    Article,
    EscalationOutcome,
    Feedback,
    SolutionLink,
    Task,
    Ticket,
    utcnow,
)
from db.session import page


def _target_team(session: Session, visibility: Visibility, target: str) -> str | None:
    """The owning team of a feedback target the caller may see; 404 for anything else."""
    kind, _, rest = target.partition(":")
    if kind == "article":
        article = session.scalar(select(Article).where(Article.slug == rest))
        if article is None or not visibility.can_read(article):
            raise ArticleNotFound(f"No article with slug {rest!r}.")
        return article.team
    if kind == "ticket":
        source, _, external_id = rest.partition(":")
        ticket = session.scalar(
            select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id)
        )
        if ticket is None or not visibility.sees_tickets:
            raise TicketNotFound(f"No ticket {external_id!r} from source {source!r}.")
        return ticket.team
    raise InvalidInput(
        "target is article:<slug> or ticket:<source>:<id>.",
        details=[{"field": "target", "message": "article:<slug> or ticket:<source>:<id>"}],
    )


def give_feedback(
    session: Session, *, principal: Principal, visibility: Visibility, feedback: FeedbackIn
) -> FeedbackOut:
    """Store the feedback; not helpful, or a flag, opens a task for the owning team."""
    team = _target_team(session, visibility, feedback.target)
    row = Feedback(
        target=feedback.target,
        team=team,
        context=feedback.context,
        helpful=feedback.helpful,
        flag=feedback.flag,
        comment=feedback.comment,
        query=feedback.query,
        actor=principal.name,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    task: Task | None = None
    if not feedback.helpful or feedback.flag:
        task = Task(
            team=team,
            status="open",
            reason=feedback.flag or "not_helpful",
            target=feedback.target,
            feedback_id=row.id,
            comment=feedback.comment,
            created_at=utcnow(),
        )
        session.add(task)
        session.flush()
    record(
        session,
        principal,
        "feedback.create",
        feedback.target,
        helpful=feedback.helpful,
        flag=feedback.flag,
        task=task.id if task else None,
    )
    return FeedbackOut(
        id=row.id,
        target=row.target,
        team=team,
        helpful=row.helpful,
        flag=row.flag,
        task_id=task.id if task else None,
    )


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


def link_solution(
    session: Session, *, principal: Principal, visibility: Visibility, link: LinkIn
) -> tuple[LinkOut, bool]:
    """A resolved ticket was solved by an article (a reuse); (link, created)."""
    principal.require("agent", "specialist", "integration", "admin")
    _target_team(session, visibility, article_id(link.article_slug))
    row = session.scalar(
        select(SolutionLink).where(
            SolutionLink.ticket_source == link.ticket_source,
            SolutionLink.ticket_id == link.ticket_id,
            SolutionLink.article_slug == link.article_slug,
        )
    )
    created = row is None
    if row is None:
        row = SolutionLink(**link.model_dump(), actor=principal.name, created_at=utcnow())
        session.add(row)
        session.flush()
        record(
            session,
            principal,
            "link.create",
            article_id(link.article_slug),
            ticket=f"{link.ticket_source}:{link.ticket_id}",
        )
    return _link_out(row), created


def _link_out(row: SolutionLink) -> LinkOut:
    return LinkOut(
        ticket_source=row.ticket_source,
        ticket_id=row.ticket_id,
        article_slug=row.article_slug,
        actor=row.actor,
        created_at=row.created_at,
    )


def list_links(
    session: Session, *, principal: Principal, article_slug: str | None, limit: int, offset: int
) -> LinkList:
    principal.require("agent", "specialist", "integration", "admin")
    query = select(SolutionLink)
    if article_slug:
        query = query.where(SolutionLink.article_slug == article_slug)
    rows, total = page(session, query, SolutionLink.id, limit=limit, offset=offset)
    return LinkList(links=[_link_out(r) for r in rows], total=total)


def record_outcome(
    session: Session, *, principal: Principal, outcome: OutcomeIn
) -> tuple[OutcomeOut, bool]:
    """The final team of an escalated ticket against the suggested one (upsert per ticket)."""
    principal.require("agent", "specialist", "integration", "admin")
    row = session.scalar(
        select(EscalationOutcome).where(
            EscalationOutcome.ticket_source == outcome.ticket_source,
            EscalationOutcome.ticket_id == outcome.ticket_id,
        )
    )
    created = row is None
    if row is None:
        row = EscalationOutcome(ticket_source=outcome.ticket_source, ticket_id=outcome.ticket_id)
        session.add(row)
    row.suggested_team = outcome.suggested_team
    row.final_team = outcome.final_team
    row.actor = principal.name
    row.created_at = utcnow()
    session.flush()
    record(
        session,
        principal,
        "escalation.record",
        f"ticket:{outcome.ticket_source}:{outcome.ticket_id}",
        suggested=outcome.suggested_team,
        final=outcome.final_team,
    )
    return _outcome_out(row), created


def _outcome_out(row: EscalationOutcome) -> OutcomeOut:
    return OutcomeOut(
        ticket_source=row.ticket_source,
        ticket_id=row.ticket_id,
        suggested_team=row.suggested_team,
        final_team=row.final_team,
        agreed=row.suggested_team == row.final_team,
        actor=row.actor,
        created_at=row.created_at,
    )


def list_outcomes(
    session: Session, *, principal: Principal, team: str | None, limit: int, offset: int
) -> OutcomeList:
    principal.require("agent", "specialist", "integration", "admin")
    query = select(EscalationOutcome)
    if team:
        query = query.where(
            (EscalationOutcome.final_team == team) | (EscalationOutcome.suggested_team == team)
        )
    rows, total = page(session, query, EscalationOutcome.id, limit=limit, offset=offset)
    agreed = (
        session.scalar(
            select(func.count()).select_from(
                query.where(
                    EscalationOutcome.suggested_team == EscalationOutcome.final_team
                ).subquery()
            )
        )
        or 0
    )
    return OutcomeList(
        outcomes=[_outcome_out(r) for r in rows],
        total=total,
        agreement=round(agreed / total, 4) if total else None,
    )
