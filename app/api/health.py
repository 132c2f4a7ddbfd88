"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from app.auth import PrincipalDep
from app.deps import SessionDep
from app.errors import ServiceUnavailable
from app.schemas.health import Health, Readiness
from app.state import app_state

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The process is alive")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Database reachable and index loaded (needs a key: it names model and size)",
)
def ready(request: Request, session: SessionDep, principal: PrincipalDep) -> Readiness:
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable(f"Database not reachable: {type(exc).__name__}") from exc
    live = app_state(request.app).ready().live_index
    # Catch up first (throttled like a search) so the count includes what other processes,
    # a CLI ingest or another replica, committed since the last search.
    live.refresh()
    return Readiness(
        status="ready",
        database=session.get_bind().dialect.name,
        indexed_passages=len(live),
        model=live.embedder.model_id,
    )
