"""Weekly digests (issue 12, item 6): per team and per contractor firm its week's KPIs, new
gaps, open tasks, training topics and satisfaction, as a page and as a message through the
delivery queue. A firm's digest is computed as that firm sees (a contractor principal of
the firm), so it cannot hold anything the firm may not read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import Forbidden, NotFound
from app.schemas.digests import Audience, Digest, DigestFigures, DigestTask
from app.schemas.kpis import Kpis
from app.services.digest_gaps import GapReader, new_gaps
from app.services.firms import load_firms
from app.services.kpis import kpis
from app.services.kpis_sql import share
from app.services.pulses import pulse_summary
from app.services.training import training
from app.services.visibility import Visibility, visibility_for
from db.models import Task, utcnow

MAX_TASKS = 10
MAX_TOPICS = 5


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def last_week(today: date) -> date:
    """A day of the last complete week: what a digest sent on Monday morning covers."""
    return today - timedelta(days=7)


def _open_tasks(session: Session, now: datetime, owned: ColumnElement[bool]) -> list[DigestTask]:
    rows = session.scalars(
        select(Task)
        .where(Task.status == "open", owned)
        .order_by(Task.created_at, Task.id)
        .limit(MAX_TASKS)
    )
    return [
        DigestTask(
            id=task.id,
            target=task.target,
            reason=task.reason,
            age_days=round((now - task.created_at).total_seconds() / 86400, 1),
        )
        for task in rows
    ]


def _team_figures(figures: Kpis, team: str) -> DigestFigures:
    feedback = [f for f in figures.feedback or [] if f.team == team]
    total, helpful = sum(f.total for f in feedback), sum(f.count for f in feedback)
    return DigestFigures(
        suggestions=sum(s.suggestions for s in figures.suggestions),
        escalated=sum(s.escalated for s in figures.suggestions),
        outcomes=sum(r.outcomes for r in figures.routing),
        agreed=sum(r.agreed for r in figures.routing),
        reassigned=sum(r.count for r in figures.reassignments),
        feedback=total,
        helpful=helpful,
        helpful_share=share(helpful, total),
    )


def _firm_figures(figures: Kpis, firm: str) -> DigestFigures:
    rows = [f for f in figures.firms if f.firm == firm]
    total, helpful = sum(f.feedback for f in rows), sum(f.helpful for f in rows)
    return DigestFigures(
        suggestions=sum(s.suggestions for s in figures.suggestions),
        escalated=sum(f.escalations for f in rows),
        outcomes=sum(f.outcomes for f in rows),
        agreed=None,
        reassigned=sum(f.reassigned for f in rows),
        feedback=total,
        helpful=helpful,
        helpful_share=share(helpful, total),
    )


def team_digest(
    session: Session, principal: Principal, team: str, day: date, gaps: GapReader | None
) -> Digest:
    """A team's week, for staff (a firm reads only its own firm's digest)."""
    if not principal.is_staff:
        raise Forbidden("A contractor reads its own firm's digest only.")
    start, end = week_of(day)
    visibility = visibility_for(session, principal)
    figures = kpis(session, visibility, start=start, end=end, team=team)
    needs = training(session, visibility, start=start, end=end, team=team)
    topics = sorted([*(needs.first_level or []), *(needs.routing or [])], key=lambda t: -t.count)
    return Digest(
        audience="team",
        name=team,
        start=start,
        end=end,
        figures=_team_figures(figures, team),
        new_gaps=new_gaps(session, visibility, start=start, end=end, team=team, reader=gaps),
        open_tasks=_open_tasks(session, utcnow(), Task.team == team),
        training=topics[:MAX_TOPICS],
        satisfaction=pulse_summary(session, principal, start=start, end=end, team=team).figures,
    )


def firm_digest(
    session: Session, principal: Principal, firm: str, day: date, gaps: GapReader | None
) -> Digest:
    """A firm's week as the firm itself sees it; another firm's digest looks absent."""
    firms = load_firms(session)
    name = firms.firm_of(firm)
    if name is None or name not in firms.visible(principal):
        raise NotFound(f"No firm {firm!r}.")
    as_firm = Principal(key_id=None, name=f"digest:{name}", role="contractor", company=name)
    visibility: Visibility = visibility_for(session, as_firm)
    start, end = week_of(day)
    figures = kpis(session, visibility, start=start, end=end)
    shared = [target for target, owner in firms.shared if owner == name]
    owned = Task.target.in_(shared) | Task.team.in_(firms.teams_of(name))
    return Digest(
        audience="firm",
        name=name,
        start=start,
        end=end,
        figures=_firm_figures(figures, name),
        new_gaps=new_gaps(session, visibility, start=start, end=end, team=None, reader=gaps),
        open_tasks=_open_tasks(session, utcnow(), owned),
        training=training(session, visibility, start=start, end=end).firms[:MAX_TOPICS],
        satisfaction=pulse_summary(session, as_firm, start=start, end=end).figures,
    )


def digest(
    session: Session,
    principal: Principal,
    audience: Audience,
    name: str,
    day: date,
    *,
    gaps: GapReader | None,
) -> Digest:
    """A team's or a firm's week; its new gaps are mined only when `gaps` can encode."""
    if audience == "team":
        return team_digest(session, principal, name, day, gaps)
    return firm_digest(session, principal, name, day, gaps)


def message_of(found: Digest) -> dict[str, Any]:
    """The digest as the delivered message: the page's figures as JSON."""
    return {"event": "digest.weekly", **found.model_dump(mode="json")}
