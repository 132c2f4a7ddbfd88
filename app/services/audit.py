"""The audit log: every write, with who did it, recorded in the write's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.schemas.audit import AuditList, AuditOut
from db.models import AuditEntry
from db.session import page


def record(
    session: Session, principal: Principal, action: str, target: str, **details: Any
) -> None:
    session.add(
        AuditEntry(
            actor_key_id=principal.key_id,
            actor=principal.name,
            action=action,
            target=target[:500],
            details=details,
        )
    )


def list_entries(
    session: Session,
    *,
    action: str | None,
    actor: str | None,
    target: str | None,
    limit: int,
    offset: int,
) -> AuditList:
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if target:
        query = query.where(AuditEntry.target == target)
    rows, total = page(session, query, AuditEntry.id.desc(), limit=limit, offset=offset)
    return AuditList(
        entries=[
            AuditOut(
                id=row.id,
                at=row.at,
                actor=row.actor,
                actor_key_id=row.actor_key_id,
                action=row.action,
                target=row.target,
                details=dict(row.details),
            )
            for row in rows
        ],
        total=total,
    )
