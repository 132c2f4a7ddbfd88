"""GET /audit: the log of every write, for admins."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from app.api.params import Offset
from app.auth import PrincipalDep, current_principal
from app.deps import SessionDep
from app.schemas.audit import AuditList
from app.services.audit import list_entries

router = APIRouter(tags=["audit"], dependencies=[Depends(current_principal)])


@router.get("/audit", response_model=AuditList, summary="Audit log of writes (admins)")
def audit_log(
    session: SessionDep,
    principal: PrincipalDep,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: Offset = 0,
) -> AuditList:
    principal.require("admin")
    return list_entries(
        session, action=action, actor=actor, target=target, limit=limit, offset=offset
    )
