"""GET /metrics: the app's Prometheus metrics, for an admin key or the metrics token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from app.auth import authenticate, bearer_scheme
from app.state import AppState, app_state

router = APIRouter()


def _is_metrics_token(state: AppState, presented: str | None) -> bool:
    token = state.settings.metrics_token
    if token is None or not token.get_secret_value() or not presented:
        return False
    # In constant time, on bytes: compare_digest refuses non-ASCII str.
    return hmac.compare_digest(presented.encode(), token.get_secret_value().encode())


@router.get("/metrics", include_in_schema=False)
def metrics(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Response:
    """Scraped with `Authorization: Bearer <STELLWERK_METRICS_TOKEN>` or an admin's key.

    Anything else is an API key check like every route's: 401 (spending the failure
    budget, so guessing the token is as slow as guessing a key), 403 for other roles."""
    state = app_state(request.app)
    presented = credentials.credentials.strip() if credentials else None
    if not _is_metrics_token(state, presented):
        address = request.client.host if request.client else "unknown"
        authenticate(state, address, presented or None).require("admin")
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
