"""POST /search: find articles and resolved tickets for a query."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from app.auth import PrincipalDep, current_principal
from app.deps import KeyTurn, LiveIndexDep, SessionDep, SettingsDep
from app.schemas.search import SearchRequest, SearchResponse
from app.services.events import record_search
from app.services.search import search as search_knowledge
from app.services.visibility import visibility_for

router = APIRouter(tags=["search"], dependencies=[Depends(current_principal), KeyTurn])


@router.post("/search", response_model=SearchResponse, summary="Search the knowledge base")
def search(
    body: SearchRequest,
    session: SessionDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> SearchResponse:
    started = time.perf_counter()
    hits = search_knowledge(
        session,
        live,
        body,
        visibility=visibility_for(session, principal),
        max_k=settings.search_max_k,
    )
    record_search(
        session,
        principal=principal,
        channel="api",
        query=body.query,
        hits=hits,
        retention_days=settings.event_retention_days,
    )
    session.commit()
    return SearchResponse(hits=hits, took_ms=round((time.perf_counter() - started) * 1000, 2))
