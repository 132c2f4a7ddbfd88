"""Escalation outcomes: the final team of an escalated ticket against the suggested one."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.schemas.outcomes import OutcomeIn, OutcomeList, OutcomeOut
from app.services.audit import record
from db.fix_rollups import escalated
from db.models import EscalationOutcome, utcnow
from db.session import page


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
    if outcome.first_team is not None or created:
        row.first_team = outcome.first_team
    row.actor = principal.name
    row.created_at = utcnow()
    session.flush()
    escalated(session, row.ticket_source, row.ticket_id)
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
        first_team=row.first_team,
        final_team=row.final_team,
        reassigned=None if row.first_team is None else row.first_team != row.final_team,
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
