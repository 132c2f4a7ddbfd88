"""KPIs over the events and the knowledge base (issue 12, item 2): one GROUP BY each.

Definitions in docs/KPIS.md. Staff see every figure; a contractor sees only the suggestions
its own firm asked for (and the outcomes of those tickets); the knowledge-base families,
computed over internal tickets, feedback and tasks, are `null` for it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, select, true
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
from db.first_suggestions import ANYONE
from db.kpi_rollups import FIRST_LEVEL
from db.models import EscalationOutcome, FirstSuggestion, SearchDay, SuggestionDay, utcnow
from db.rollup_sql import as_day

BANDS: tuple[tuple[float, Band], ...] = (
    (0.5, "0.0-0.5"),
    (0.7, "0.5-0.7"),
    (0.9, "0.7-0.9"),
)


def _company(visibility: Visibility, column: Any) -> ColumnElement[bool]:
    """The rows the caller may count: all for staff, its own firm's for a contractor."""
    if visibility.sees_tickets:
        return true()
    company = visibility.principal.company
    return column == company if company else false()


def _days(win: Window, column: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = (column >= win.start) & (column <= win.end)
    return result


def search_kpis(session: Session, win: Window, visibility: Visibility) -> list[ShareKpis]:
    """Searches per period and the share that found nothing (a knowledge gap's first sign),
    from the per-day rollup."""
    day = SearchDay
    query = (
        select(day.day, func.sum(day.searches), func.sum(day.empty))
        .where(_days(win, day.day), _company(visibility, day.company))
        .group_by(day.day)
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d, n, k in session.execute(query):
        row = totals[win.bucket(as_day(d))]
        row[0] += int(n)
        row[1] += int(k or 0)
    return [share_row(p, None, n, k) for p, (n, k) in sorted(totals.items())]


def _counted(flag: ColumnElement[bool], count: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((flag, count), else_=0)), 0)


def suggestion_kpis(session: Session, win: Window, visibility: Visibility) -> list[SuggestionKpis]:
    """Suggestions, escalations and confirmed first-level resolutions per period and team,
    from the per-day rollup (a link or helpful mark confirms when it arrives)."""
    day = SuggestionDay
    query = (
        select(
            day.day,
            day.team,
            func.sum(day.events),
            _counted(day.action == "escalate", day.events),
            _counted(day.action == FIRST_LEVEL, day.events),
            func.sum(day.confirmed),
        )
        .where(_days(win, day.day), _company(visibility, day.company))
        .group_by(day.day, day.team)
    )
    if win.team:
        query = query.where(day.team == win.team)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for d, team, *counts in session.execute(query):
        row = totals[(win.bucket(as_day(d)), team)]
        for i, n in enumerate(counts):
            row[i] += int(n or 0)
    return [
        SuggestionKpis(
            period=p,
            team=team or None,
            suggestions=total,
            escalated=escalated,
            escalation_rate=share(escalated, total),
            first_level=first,
            first_level_confirmed=confirmed,
            first_level_confirmed_rate=share(confirmed, first),
        )
        for (p, team), (total, escalated, first, confirmed) in sorted(totals.items())
    ]


def _band(confidence: Any) -> ColumnElement[str]:
    whens = [(confidence < top, name) for top, name in BANDS]
    return case((confidence.is_(None), "unknown"), *whens, else_="0.9-1.0")


def routing_kpis(session: Session, win: Window, visibility: Visibility) -> list[RoutingKpis]:
    """Suggested against final team per period, team and confidence band of the suggestion.

    The ticket's first suggestion (the caller's own firm's, for a contractor) is one
    primary-key probe per outcome of the range (the `first_suggestions` rollup): the
    range's outcomes, not the ticket's events, decide the cost."""
    if visibility.sees_tickets:
        company = ANYONE
    elif visibility.principal.company:
        company = visibility.principal.company
    else:
        return []
    outcome, first = EscalationOutcome, FirstSuggestion
    confidence = first.confidence
    band = _band(confidence).label("band")
    period = win.period(outcome.created_at).label("period")
    query = (
        select(
            period,
            outcome.suggested_team,
            band,
            func.count(),
            _counted(outcome.suggested_team == outcome.final_team, 1),
            func.avg(confidence),
        )
        .select_from(outcome)
        .join(
            first,
            (first.ticket_source == outcome.ticket_source)
            & (first.ticket_id == outcome.ticket_id)
            & (first.company == company),
            # Staff see every outcome (band "unknown" without a suggestion), a firm only
            # those of tickets it asked about.
            isouter=visibility.sees_tickets,
        )
        .where(win.within(outcome.created_at))
        .group_by(period, outcome.suggested_team, band)
        .order_by(period, outcome.suggested_team, band)
    )
    if win.team:
        query = query.where(outcome.suggested_team == win.team)
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
        for p, team, b, total, agreed, mean in session.execute(query)
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
