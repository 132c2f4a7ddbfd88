"""KPIs over the events and the knowledge base (issue 12, item 2): one GROUP BY each.

Definitions in docs/KPIS.md. Staff see every figure; a contractor sees only the suggestions
its own firm asked for (and the outcomes of those tickets); the knowledge-base families,
computed over internal tickets, feedback and tasks, are `null` for it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.schemas.kpis import Band, Interval, Kpis, RoutingKpis, ShareKpis, SuggestionKpis
from app.services.firms import load_firms
from app.services.kpis_firms import firm_kpis, firm_tasks, reassignments
from app.services.kpis_knowledge import (
    draft_to_published,
    feedback_by_article,
    feedback_by_team,
    link_rate,
    never_reused,
    open_tasks,
    reuse,
    stale,
)
from app.services.kpis_sql import Window, rounded, share, share_row, window
from app.services.visibility import Visibility
from db.models import (
    EscalationOutcome,
    Feedback,
    SearchEvent,
    SolutionLink,
    SuggestionEvent,
    SuggestionShown,
    utcnow,
)

BANDS: tuple[tuple[float, Band], ...] = (
    (0.5, "0.0-0.5"),
    (0.7, "0.5-0.7"),
    (0.9, "0.7-0.9"),
)


def _firm(visibility: Visibility) -> ColumnElement[bool]:
    """The events the caller may count: all for staff, its own firm's for a contractor."""
    if visibility.sees_tickets:
        return true()
    company = visibility.principal.company
    return SuggestionEvent.company == company if company else false()


def search_kpis(session: Session, win: Window, visibility: Visibility) -> list[ShareKpis]:
    """Searches per period and the share that found nothing (a knowledge gap's first sign)."""
    search = SearchEvent
    period = win.period(search.at).label("period")
    if visibility.sees_tickets:
        firm: ColumnElement[bool] = true()
    else:
        company = visibility.principal.company
        firm = search.company == company if company else false()
    query = (
        select(period, func.count(), _counted(search.results == 0))
        .where(win.within(search.at), firm)
        .group_by(period)
        .order_by(period)
    )
    return [share_row(p, None, n, k) for p, n, k in session.execute(query)]


def _counted(flag: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((flag, 1), else_=0)), 0)


def suggestion_kpis(session: Session, win: Window, visibility: Visibility) -> list[SuggestionKpis]:
    """Suggestions, escalations and confirmed first-level resolutions per period and team."""
    event = SuggestionEvent
    linked = exists().where(
        SolutionLink.ticket_source == event.ticket_source,
        SolutionLink.ticket_id == event.ticket_id,
    )
    helpful = exists().where(
        SuggestionShown.event_id == event.id,
        Feedback.target == SuggestionShown.target,
        Feedback.helpful.is_(True),
        Feedback.actor == event.actor,
        Feedback.created_at >= event.at,
    )
    first_level = event.action == "resolve_at_first_level"
    period = win.period(event.at).label("period")
    query = (
        select(
            period,
            event.team,
            func.count(),
            _counted(event.action == "escalate"),
            _counted(first_level),
            _counted(and_(first_level, or_(linked, helpful))),
        )
        .where(win.within(event.at), _firm(visibility))
        .group_by(period, event.team)
        .order_by(period, event.team)
    )
    if win.team:
        query = query.where(event.team == win.team)
    return [
        SuggestionKpis(
            period=str(p),
            team=team,
            suggestions=int(total),
            escalated=int(escalated),
            escalation_rate=share(int(escalated), int(total)),
            first_level=int(first),
            first_level_confirmed=int(confirmed),
            first_level_confirmed_rate=share(int(confirmed), int(first)),
        )
        for p, team, total, escalated, first, confirmed in session.execute(query)
    ]


def _band(confidence: Any) -> ColumnElement[str]:
    whens = [(confidence < top, name) for top, name in BANDS]
    return case((confidence.is_(None), "unknown"), *whens, else_="0.9-1.0")


def routing_kpis(session: Session, win: Window, visibility: Visibility) -> list[RoutingKpis]:
    """Suggested against final team per period, team and confidence band of the suggestion."""
    first = (
        select(
            SuggestionEvent.ticket_source,
            SuggestionEvent.ticket_id,
            func.min(SuggestionEvent.id).label("event_id"),
        )
        .where(SuggestionEvent.ticket_id.is_not(None), _firm(visibility))
        .group_by(SuggestionEvent.ticket_source, SuggestionEvent.ticket_id)
        .subquery()
    )
    outcome = EscalationOutcome
    confidence = SuggestionEvent.confidence
    band = _band(confidence).label("band")
    period = win.period(outcome.created_at).label("period")
    joined = (
        select(
            period,
            outcome.suggested_team,
            band,
            func.count(),
            _counted(outcome.suggested_team == outcome.final_team),
            func.avg(confidence),
        )
        .select_from(outcome)
        .join(
            first,
            and_(
                first.c.ticket_source == outcome.ticket_source,
                first.c.ticket_id == outcome.ticket_id,
            ),
            isouter=visibility.sees_tickets,
        )
        .join(SuggestionEvent, SuggestionEvent.id == first.c.event_id, isouter=True)
        .where(win.within(outcome.created_at))
        .group_by(period, outcome.suggested_team, band)
        .order_by(period, outcome.suggested_team, band)
    )
    if win.team:
        joined = joined.where(outcome.suggested_team == win.team)
    return [
        RoutingKpis(
            period=str(p),
            team=team,
            band=b,
            outcomes=int(total),
            agreed=int(agreed),
            accuracy=share(int(agreed), int(total)),
            mean_confidence=rounded(mean, 4),
        )
        for p, team, b, total, agreed, mean in session.execute(joined)
    ]


DEFAULT_DAYS = 90
MAX_DAYS = 3660


def date_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The days asked for: `end` defaults to today, `start` to 90 days before `end`."""
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput(
            "from must not be after to.",
            details=[{"field": "from", "message": "after to"}],
        )
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(
            f"The range may span at most {MAX_DAYS} days.",
            details=[{"field": "from", "message": f"at most {MAX_DAYS} days before to"}],
        )
    return start, end


def kpis(
    session: Session,
    visibility: Visibility,
    *,
    start: date,
    end: date,
    interval: Interval = "week",
    team: str | None = None,
    now: datetime | None = None,
) -> Kpis:
    """Every KPI family the caller may see, over days `start` to `end` (inclusive, UTC)."""
    win = window(session, start=start, end=end, interval=interval, team=team, now=now or utcnow())
    staff = visibility.sees_tickets
    firms = load_firms(session)
    visible = firms.visible(visibility.principal)
    return Kpis(
        start=start,
        end=end,
        interval=interval,
        team=team,
        scope="all" if staff else "firm",
        suggestions=suggestion_kpis(session, win, visibility),
        routing=routing_kpis(session, win, visibility),
        searches=search_kpis(session, win, visibility) if not team else [],
        link_rate=link_rate(session, win) if staff else None,
        reuse=reuse(session, win) if staff else None,
        never_reused=never_reused(session, win) if staff else None,
        draft_to_published=draft_to_published(session, win) if staff else None,
        stale=stale(session, win) if staff else None,
        feedback=feedback_by_team(session, win) if staff else None,
        feedback_by_article=feedback_by_article(session, win) if staff else None,
        open_tasks=open_tasks(session, win) if staff else None,
        reassignments=reassignments(session, win, visibility, firms),
        firms=firm_kpis(session, win, firms, visible),
        firm_tasks=firm_tasks(session, win, firms, visible),
    )


__all__ = ["kpis", "routing_kpis", "suggestion_kpis"]
