"""Satisfaction pulses (issue 12, item 5): each side rates a handover 1-5 with a comment,
aggregated per team, firm and month. A firm reads only its own ratings and those about
its own teams; comments are masked as ingest masks tickets."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, null, or_, select, true
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import Forbidden, InvalidInput, NotFound
from app.schemas.pulses import Aspect, PulseComment, PulseFigures, PulseIn, PulseOut, PulseSummary
from app.services.audit import record
from app.services.firms import Firms, load_firms
from app.services.kpis_sql import rounded, window
from db.models import EscalationOutcome, Pulse, SuggestionEvent, utcnow
from ingest.pii import mask_personal_data

SIDES = {"agent": "first_level", "specialist": "second_level", "contractor": "contractor"}
ASPECTS: dict[str, tuple[Aspect, ...]] = {
    "first_level": ("answer",),
    "second_level": ("escalation",),
    "contractor": ("clarity", "documentation"),
}
MAX_COMMENTS = 20


def handover_team(session: Session, ticket_source: str, ticket_id: str) -> str | None:
    """The team a ticket was handed to: its recorded outcome's final team, else the team
    its first escalating suggestion named; None when it was never handed over."""
    final = session.scalar(
        select(EscalationOutcome.final_team).where(
            EscalationOutcome.ticket_source == ticket_source,
            EscalationOutcome.ticket_id == ticket_id,
        )
    )
    if final is not None:
        return final
    return session.scalar(
        select(SuggestionEvent.escalation_team)
        .where(
            SuggestionEvent.ticket_source == ticket_source,
            SuggestionEvent.ticket_id == ticket_id,
            SuggestionEvent.action == "escalate",
            SuggestionEvent.escalation_team.is_not(None),
        )
        .order_by(SuggestionEvent.id)
        .limit(1)
    )


def may_rate(principal: Principal, team: str | None, firms: Firms) -> bool:
    """A firm rates only handovers to its own teams (others look absent)."""
    if principal.role != "contractor":
        return team is not None
    own = firms.firm_of(principal.company)
    return team is not None and own is not None and team in firms.teams_of(own)


def visible_handover_team(
    session: Session, principal: Principal, ticket_source: str, ticket_id: str
) -> str:
    """The handover's team if the caller may see it; 404 alike for absent and hidden."""
    team = handover_team(session, ticket_source, ticket_id)
    if not may_rate(principal, team, load_firms(session)) or team is None:
        raise NotFound(f"No handover of ticket {ticket_source}:{ticket_id}.")
    return team


def side_of(principal: Principal) -> str:
    side = SIDES.get(principal.role)
    if side is None:
        raise Forbidden(f"Role {principal.role} takes no side in a handover.")
    return side


def record_pulse(
    session: Session, *, principal: Principal, pulse: PulseIn
) -> tuple[PulseOut, bool]:
    """Store (or replace) the caller's rating of one aspect of a handover."""
    side = side_of(principal)
    if pulse.aspect not in ASPECTS[side]:
        allowed = ", ".join(ASPECTS[side])
        raise InvalidInput(
            f"The {side} side rates {allowed}.", details=[{"field": "aspect", "message": allowed}]
        )
    checks = {
        "complete": pulse.complete,
        "justified": pulse.justified,
        "right_team": pulse.right_team,
    }
    if pulse.aspect != "escalation" and any(v is not None for v in checks.values()):
        raise InvalidInput(
            "complete, justified and right_team rate an escalation only.",
            details=[{"field": "complete", "message": "escalation only"}],
        )
    team = visible_handover_team(session, principal, pulse.ticket_source, pulse.ticket_id)
    if side == "second_level" and principal.teams and team not in principal.teams:
        raise Forbidden(f"The ticket went to {team}, not to your teams.")
    row = session.scalar(
        select(Pulse).where(
            Pulse.ticket_source == pulse.ticket_source,
            Pulse.ticket_id == pulse.ticket_id,
            Pulse.actor == principal.name,
            Pulse.aspect == pulse.aspect,
        )
    )
    created = row is None
    if row is None:
        row = Pulse(
            ticket_source=pulse.ticket_source, ticket_id=pulse.ticket_id, actor=principal.name
        )
        session.add(row)
    comment = (pulse.comment or "").strip()
    row.at = utcnow()
    row.side, row.aspect, row.rating, row.team = side, pulse.aspect, pulse.rating, team
    row.comment = mask_personal_data(comment) if comment else None
    row.complete, row.justified, row.right_team = pulse.complete, pulse.justified, pulse.right_team
    row.company = principal.company if side == "contractor" else None
    session.flush()
    record(
        session,
        principal,
        "pulse.record",
        f"ticket:{pulse.ticket_source}:{pulse.ticket_id}",
        aspect=pulse.aspect,
        rating=pulse.rating,
    )
    return _pulse_out(row), created


def _pulse_out(row: Pulse) -> PulseOut:
    return PulseOut(
        ticket_source=row.ticket_source,
        ticket_id=row.ticket_id,
        side=row.side,  # type: ignore[arg-type]
        aspect=row.aspect,  # type: ignore[arg-type]
        rating=row.rating,
        comment=row.comment,
        team=row.team,
        at=row.at,
    )


def _readable(principal: Principal, firms: Firms, rater_firm: Any) -> ColumnElement[bool]:
    """Staff read every rating; a firm its own and the internal ones about its teams."""
    if principal.is_staff:
        return true()
    own = firms.firm_of(principal.company)
    if own is None:
        return false()
    about_us = and_(Pulse.company.is_(None), Pulse.team.in_(firms.teams_of(own)))
    return or_(rater_firm == own, about_us)


def _share(flag: Any) -> ColumnElement[Any]:
    return func.avg(case((flag.is_(True), 1.0), (flag.is_(False), 0.0), else_=None))


def pulse_summary(
    session: Session, principal: Principal, *, start: date, end: date, team: str | None = None
) -> PulseSummary:
    """Ratings per month, side, aspect, team and rater firm, and the newest comments."""
    win = window(session, start=start, end=end, interval="month", team=team, now=utcnow())
    firms = load_firms(session)
    # The rater's firm by its key's spelling (a CASE, so the GROUP BY buckets by it).
    # With no key of any firm, no rating has a firm: the stored company (null) stands in.
    rater_firm: Any = (
        case(firms.spellings, value=Pulse.company, else_=null())
        if firms.spellings
        else Pulse.company
    )
    rater = rater_firm.label("firm")
    period = win.period(Pulse.at).label("period")
    scope = and_(win.within(Pulse.at), _readable(principal, firms, rater_firm))
    if team:
        scope = and_(scope, Pulse.team == team)
    query = (
        select(
            period,
            Pulse.side,
            Pulse.aspect,
            Pulse.team,
            rater,
            func.count(),
            func.avg(Pulse.rating),
            _share(Pulse.complete),
            _share(Pulse.justified),
            _share(Pulse.right_team),
        )
        .where(scope)
        .group_by(period, Pulse.side, Pulse.aspect, Pulse.team, rater)
        .order_by(period, Pulse.side, Pulse.aspect, Pulse.team)
    )
    comments = (
        select(Pulse)
        .where(scope, Pulse.comment.is_not(None))
        .order_by(Pulse.at.desc(), Pulse.id.desc())
        .limit(MAX_COMMENTS)
    )
    figures = [
        PulseFigures(
            period=str(p),
            side=s,
            aspect=a,
            team=t,
            firm=f,
            ratings=int(n),
            mean_rating=rounded(mean),
            complete_share=rounded(c, 4),
            justified_share=rounded(j, 4),
            right_team_share=rounded(r, 4),
        )
        for p, s, a, t, f, n, mean, c, j, r in session.execute(query)
    ]
    return PulseSummary(
        start=start,
        end=end,
        team=team,
        figures=figures,
        comments=[
            PulseComment(
                at=row.at,
                side=row.side,  # type: ignore[arg-type]
                aspect=row.aspect,  # type: ignore[arg-type]
                team=row.team,
                rating=row.rating,
                comment=row.comment or "",
            )
            for row in session.scalars(comments)
        ],
    )
