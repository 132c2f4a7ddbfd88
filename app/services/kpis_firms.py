"""The contractor families: reassignments, and per firm its escalations, outcomes,
feedback on the articles shared with it and its open tasks (each firm sees only its own).

A firm's teams and shared articles come from `app.services.firms`: each figure is one
GROUP BY filtered by them (IN lists), bucketed by firm with a CASE where a team decides it,
or by article and rater where several firms share one; those few rows are then folded."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from app.schemas.kpis import FirmKpis, FirmTaskKpis, ShareKpis
from app.services.firms import Firms, counts_for, firm_of_team, shared_with, visible_teams
from app.services.kpis_sql import Window, rounded, share, share_row
from app.services.visibility import Visibility
from db.models import ApiKey, EscalationOutcome, Feedback, SuggestionDay, Task
from db.rollup_sql import as_day

# escalations, outcomes, reassigned, feedback, helpful
Row = list[int]


def outcome_firm(firms: Firms, visible: list[str]) -> ColumnElement[str | None]:
    """An outcome belongs to the firm of its final team, else of its first team."""
    outcome = EscalationOutcome
    return func.coalesce(
        firm_of_team(firms, outcome.final_team, visible),
        firm_of_team(firms, outcome.first_team, visible),
    )


def involving(teams: list[str]) -> ColumnElement[bool]:
    outcome = EscalationOutcome
    if not teams:
        return false()
    return or_(outcome.final_team.in_(teams), outcome.first_team.in_(teams))


def _involving(firms: Firms, visibility: Visibility) -> ColumnElement[bool]:
    """Outcomes the caller may count: all for staff, those of its firm's teams for a firm."""
    if visibility.sees_tickets:
        return true()
    return involving(visible_teams(firms, firms.visible(visibility.principal)))


def reassignments(
    session: Session, win: Window, visibility: Visibility, firms: Firms
) -> list[ShareKpis]:
    """Outcomes with a known first escalation, per period and first team, and those whose
    final team differs from it (a reassignment)."""
    outcome = EscalationOutcome
    period = win.period(outcome.created_at).label("period")
    moved = case((outcome.final_team != outcome.first_team, 1), else_=0)
    query = (
        select(period, outcome.first_team, func.count(), func.sum(moved))
        .where(
            win.within(outcome.created_at),
            outcome.first_team.is_not(None),
            _involving(firms, visibility),
        )
        .group_by(period, outcome.first_team)
        .order_by(period, outcome.first_team)
    )
    if win.team:
        query = query.where(outcome.first_team == win.team)
    return [share_row(p, t, n, k) for p, t, n, k in session.execute(query)]


def firm_kpis(session: Session, win: Window, firms: Firms, visible: list[str]) -> list[FirmKpis]:
    """Per period and firm: escalations to its teams, outcomes involving them, feedback on
    its shared articles (never another firm's marks)."""
    rows: dict[tuple[str, str], Row] = defaultdict(lambda: [0] * 5)
    teams = visible_teams(firms, visible)
    if teams:
        _escalations(session, win, firms, visible, rows)
        _outcomes(session, win, firms, visible, rows)
    _feedback(session, win, firms, visible, rows)
    return [
        FirmKpis(
            period=p,
            firm=firm,
            escalations=e,
            outcomes=o,
            reassigned=r,
            feedback=n,
            helpful=k,
            helpful_share=share(k, n),
        )
        for (p, firm), (e, o, r, n, k) in sorted(rows.items())
    ]


def _escalations(
    session: Session,
    win: Window,
    firms: Firms,
    visible: list[str],
    rows: dict[tuple[str, str], Row],
) -> None:
    """Escalating suggestions per period and firm of the escalation team (daily rollup)."""
    day = SuggestionDay
    teams = visible_teams(firms, visible)
    query = (
        select(day.day, day.escalation_team, func.sum(day.events))
        .where(
            day.action == "escalate",
            day.escalation_team.in_(teams),
            day.day >= win.start,
            day.day <= win.end,
        )
        .group_by(day.day, day.escalation_team)
    )
    if win.team:
        query = query.where(day.escalation_team == win.team)
    for d, team, n in session.execute(query):
        rows[(win.bucket(as_day(d)), firms.teams[team])][0] += int(n)


def _outcomes(
    session: Session,
    win: Window,
    firms: Firms,
    visible: list[str],
    rows: dict[tuple[str, str], Row],
) -> None:
    outcome = EscalationOutcome
    period = win.period(outcome.created_at).label("period")
    firm = outcome_firm(firms, visible).label("firm")
    moved = and_(outcome.first_team.is_not(None), outcome.final_team != outcome.first_team)
    query = (
        select(period, firm, func.count(), func.sum(case((moved, 1), else_=0)))
        .where(involving(visible_teams(firms, visible)), win.within(outcome.created_at))
        .group_by(period, firm)
    )
    if win.team:
        query = query.where(or_(outcome.final_team == win.team, outcome.first_team == win.team))
    for p, f, n, r in session.execute(query):
        row = rows[(str(p), f)]
        row[1], row[2] = int(n), int(r or 0)


def _feedback(
    session: Session,
    win: Window,
    firms: Firms,
    visible: list[str],
    rows: dict[tuple[str, str], Row],
) -> None:
    """Marks per period, shared article and rater's company, folded into each firm the
    article is shared with, counting staff's marks and the firm's own."""
    shared = shared_with(firms, visible)
    if not shared:
        return
    period = win.period(Feedback.created_at).label("period")
    query = (
        select(
            period,
            Feedback.target,
            ApiKey.company,
            func.count(),
            func.sum(case((Feedback.helpful, 1), else_=0)),
        )
        .outerjoin(ApiKey, ApiKey.name == Feedback.actor)
        .where(Feedback.target.in_(shared), win.within(Feedback.created_at))
        .group_by(period, Feedback.target, ApiKey.company)
    )
    if win.team:
        query = query.where(Feedback.team == win.team)
    for p, target, company, n, k in session.execute(query):
        for firm in shared[target]:
            if counts_for(firms, firm, company):
                row = rows[(str(p), firm)]
                row[3] += int(n)
                row[4] += int(k or 0)


def firm_tasks(
    session: Session, win: Window, firms: Firms, visible: list[str]
) -> list[FirmTaskKpis]:
    """Open tasks on each firm's shared articles or on its teams, with their mean age."""
    shared, teams = shared_with(firms, visible), visible_teams(firms, visible)
    if not shared and not teams:
        return []
    age = win.days_since(Task.created_at)
    query = (
        select(Task.target, Task.team, func.count(), func.sum(age))
        .where(Task.status == "open", or_(Task.target.in_(shared), Task.team.in_(teams)))
        .group_by(Task.target, Task.team)
    )
    if win.team:
        query = query.where(Task.team == win.team)
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for target, team, n, days in session.execute(query):
        owners = set(shared.get(target, []))
        if team in firms.teams and firms.teams[team] in visible:
            owners.add(firms.teams[team])
        for firm in owners:
            totals[firm][0] += int(n)
            totals[firm][1] += float(days or 0.0)
    return [
        FirmTaskKpis(firm=firm, open=int(n), mean_age_days=rounded(days / n if n else None))
        for firm, (n, days) in sorted(totals.items())
    ]
