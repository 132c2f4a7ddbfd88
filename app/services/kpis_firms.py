"""The contractor families: reassignments, and per firm its escalations, outcomes,
feedback on the articles shared with it and its open tasks (each firm sees only its own).

A firm's teams and shared articles come from `app.services.firms` as literal tables the
queries join; every figure is one GROUP BY."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    distinct,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from app.schemas.kpis import FirmKpis, FirmTaskKpis, ShareKpis
from app.services.firms import Firms, pairs
from app.services.kpis_sql import Window, rounded, share, share_row
from app.services.visibility import Visibility
from db.models import ApiKey, EscalationOutcome, Feedback, SuggestionEvent, Task


def _involving(firms: Firms, visibility: Visibility) -> ColumnElement[bool]:
    """Outcomes the caller may count: all for staff, those of its firm's teams for a firm."""
    if visibility.sees_tickets:
        return true()
    own = firms.firm_of(visibility.principal.company)
    teams = firms.teams_of(own) if own else []
    if not teams:
        return false()
    outcome = EscalationOutcome
    return or_(outcome.final_team.in_(teams), outcome.first_team.in_(teams))


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
    rows: dict[tuple[str, str], list[int]] = {}
    teams = pairs(((t, f) for t, f in firms.teams.items() if f in visible), "team", "firm")
    if teams is not None:
        for counts in (_escalations(session, win, teams), _outcomes(session, win, teams)):
            for (p, firm), values in counts.items():
                row = rows.setdefault((p, firm), [0] * 5)
                for index, value in values.items():
                    row[index] = value
    shared = pairs(((a, f) for a, f in firms.shared if f in visible), "target", "firm")
    if shared is not None:
        for (p, firm), (total, helpful) in _feedback(session, win, shared, firms).items():
            row = rows.setdefault((p, firm), [0] * 5)
            row[3], row[4] = total, helpful
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


Counts = dict[tuple[str, str], dict[int, int]]


def _escalations(session: Session, win: Window, teams: Subquery) -> Counts:
    event = SuggestionEvent
    period = win.period(event.at).label("period")
    query = (
        select(period, teams.c.firm, func.count())
        .join(teams, teams.c.team == event.escalation_team)
        .where(event.action == "escalate", win.within(event.at))
        .group_by(period, teams.c.firm)
    )
    if win.team:
        query = query.where(event.escalation_team == win.team)
    return {(str(p), f): {0: int(n)} for p, f, n in session.execute(query)}


def _outcomes(session: Session, win: Window, teams: Subquery) -> Counts:
    outcome = EscalationOutcome
    period = win.period(outcome.created_at).label("period")
    moved = and_(outcome.first_team.is_not(None), outcome.final_team != outcome.first_team)
    involved = or_(
        teams.c.team == outcome.final_team,
        teams.c.team == outcome.first_team,
    )
    query = (
        select(
            period,
            teams.c.firm,
            func.count(distinct(outcome.id)),
            func.count(distinct(case((moved, outcome.id)))),
        )
        .join(teams, involved)
        .where(win.within(outcome.created_at))
        .group_by(period, teams.c.firm)
    )
    if win.team:
        query = query.where(or_(outcome.final_team == win.team, outcome.first_team == win.team))
    return {(str(p), f): {1: int(n), 2: int(r)} for p, f, n, r in session.execute(query)}


def _feedback(
    session: Session, win: Window, shared: Subquery, firms: Firms
) -> dict[tuple[str, str], tuple[int, int]]:
    period = win.period(Feedback.created_at).label("period")
    firm = shared.c.firm
    raters = pairs(firms.spellings.items(), "company", "rater_firm")
    query = (
        select(period, firm, func.count(), func.sum(case((Feedback.helpful, 1), else_=0)))
        .select_from(Feedback)
        .join(shared, shared.c.target == Feedback.target)
        .outerjoin(ApiKey, ApiKey.name == Feedback.actor)
        .where(win.within(Feedback.created_at))
        .group_by(period, firm)
    )
    if raters is not None:
        # A mark counts for the firm when staff (no company) or the firm itself made it.
        query = query.outerjoin(raters, raters.c.company == ApiKey.company).where(
            or_(raters.c.rater_firm.is_(None), raters.c.rater_firm == firm)
        )
    if win.team:
        query = query.where(Feedback.team == win.team)
    return {(str(p), f): (int(n), int(k or 0)) for p, f, n, k in session.execute(query)}


def firm_tasks(
    session: Session, win: Window, firms: Firms, visible: list[str]
) -> list[FirmTaskKpis]:
    """Open tasks on each firm's shared articles or on its teams, with their mean age."""
    shared = pairs(((a, f) for a, f in firms.shared if f in visible), "key", "firm")
    teams = pairs(((t, f) for t, f in firms.teams.items() if f in visible), "key", "firm")
    parts = [
        select(Task.id.label("task_id"), table.c.firm)
        .join(table, table.c.key == column)
        .where(Task.status == "open")
        for table, column in ((shared, Task.target), (teams, Task.team))
        if table is not None
    ]
    if not parts:
        return []
    if win.team:
        parts = [part.where(Task.team == win.team) for part in parts]
    owned = (parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]).subquery()
    age = win.days_since(Task.created_at)
    query = (
        select(owned.c.firm, func.count(distinct(Task.id)), func.avg(age))
        .join(Task, Task.id == owned.c.task_id)
        .group_by(owned.c.firm)
        .order_by(owned.c.firm)
    )
    return [
        FirmTaskKpis(firm=f, open=int(n), mean_age_days=rounded(a))
        for f, n, a in session.execute(query)
    ]
