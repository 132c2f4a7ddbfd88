"""GET /stats: counts for KPIs, over exactly what the caller may see."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.stats import Stats
from app.services.visibility import is_stale, visibility_for
from db.models import Article, EscalationOutcome, Feedback, SolutionLink, Task, Ticket

router = APIRouter(tags=["stats"], dependencies=[Depends(current_principal)])


@router.get("/stats", response_model=Stats, summary="Knowledge-base KPIs you may see")
def stats(session: SessionDep, principal: PrincipalDep) -> Stats:
    visibility = visibility_for(session, principal)
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

    def count(query: object) -> int:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]

    outcomes = session.execute(
        select(EscalationOutcome.suggested_team, EscalationOutcome.final_team)
    ).all()
    agreed = sum(1 for suggested, final in outcomes if suggested == final)
    return result.model_copy(
        update={
            "tickets": count(select(func.count()).select_from(Ticket)),
            "helpful": count(select(func.count()).where(Feedback.helpful.is_(True))),
            "not_helpful": count(select(func.count()).where(Feedback.helpful.is_(False))),
            "open_tasks": count(select(func.count()).where(Task.status == "open")),
            "reuse_links": count(select(func.count()).select_from(SolutionLink)),
            "escalations": len(outcomes),
            "escalation_agreement": round(agreed / len(outcomes), 4) if outcomes else None,
        }
    )
