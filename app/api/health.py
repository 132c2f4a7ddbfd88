"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from sqlalchemy import text

from app.auth import PrincipalDep
from app.deps import SessionDep
from app.errors import ServiceUnavailable
from app.schemas.health import Health, Readiness
from app.state import app_state

log = logging.getLogger("stellwerk.health")

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The process is alive")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/health/ready",
    response_model=Health,
    summary="Ready for traffic (no key, no details: for load balancers)",
    responses={503: {"description": "Starting, stopping, or the database is not reachable."}},
)
def health_ready(request: Request) -> Health:
    """200 once the lifespan has loaded the index and the database answers, else 503.

    Says nothing else: it needs no key, so it names neither model nor size nor the error."""
    runtime = app_state(request.app).ready()
    try:
        with runtime.session_factory() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("readiness probe: database not reachable: %s", type(exc).__name__)
        raise ServiceUnavailable("Not ready.") from exc
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
    runtime = app_state(request.app).ready()
    live = runtime.live_index
    # Catch up first (throttled like a search) so the count includes what other processes,
    # a CLI ingest or another replica, committed since the last search.
    live.refresh()
    return Readiness(
        status="ready",
        database=session.get_bind().dialect.name,
        indexed_passages=len(live),
        model=live.embedder.model_id,
        routing_version=runtime.router.status().version,
    )
