"""Counts for KPIs over exactly what the caller may see."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.schemas.stats import Stats
from app.services.visibility import Visibility, is_stale
from db.models import Article, EscalationOutcome, Feedback, SolutionLink, Task, Ticket


def _count(session: Session, query: Select[int]) -> int:
    return int(session.scalar(query) or 0)


def knowledge_stats(session: Session, visibility: Visibility) -> Stats:
    """Published articles per team and stale; for staff also tickets, feedback and reuse."""
    articles = [
        a
        for a in session.scalars(select(Article).where(Article.status == "published"))
        if visibility.can_search(a)
    ]
    by_team: dict[str, int] = {}
    for article in articles:
        by_team[article.team or ""] = by_team.get(article.team or "", 0) + 1
    result = Stats(
        articles=len(articles),
        articles_by_team=by_team,
        stale_articles=sum(1 for a in articles if is_stale(a)),
        tickets=0,
        helpful=None,
        not_helpful=None,
        open_tasks=None,
        reuse_links=None,
        escalations=None,
        escalation_agreement=None,
    )
    if not visibility.sees_tickets:
        return result
    escalations = _count(session, select(func.count()).select_from(EscalationOutcome))
    agreed = _count(
        session,
        select(func.count()).where(
            EscalationOutcome.suggested_team == EscalationOutcome.final_team
        ),
    )
    return result.model_copy(
        update={
            "tickets": _count(session, select(func.count()).select_from(Ticket)),
            "helpful": _count(session, select(func.count()).where(Feedback.helpful.is_(True))),
            "not_helpful": _count(session, select(func.count()).where(Feedback.helpful.is_(False))),
            "open_tasks": _count(session, select(func.count()).where(Task.status == "open")),
            "reuse_links": _count(session, select(func.count()).select_from(SolutionLink)),
            "escalations": escalations,
            "escalation_agreement": round(agreed / escalations, 4) if escalations else None,
        }
    )
