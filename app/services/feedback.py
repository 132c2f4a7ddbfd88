"""Feedback between the levels: helpful or not, and a task for the owning team if not."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import ArticleNotFound, InvalidInput, TicketNotFound
from app.schemas.feedback import FeedbackIn, FeedbackOut
from app.services.audit import record
from app.services.visibility import Visibility
from db.kpi_rollups import feedback_added
from db.models import Article, Feedback, Task, Ticket, utcnow


def target_team(session: Session, visibility: Visibility, target: str) -> str | None:
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
    team = target_team(session, visibility, feedback.target)
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
    feedback_added(session, row)
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
