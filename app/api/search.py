"""POST /search: find articles and resolved tickets for a query."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SettingsDep
from app.errors import InvalidInput
from app.schemas import SearchRequest, SearchResponse
from app.services.search import index_filters, resolve_hits, snippet_maker
from app.services.visibility import visibility_for

router = APIRouter(tags=["search"], dependencies=[Depends(current_principal)])


@router.post("/search", response_model=SearchResponse, summary="Search the knowledge base")
def search(
    body: SearchRequest,
    session: SessionDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> SearchResponse:
    started = time.perf_counter()
    if body.k > settings.search_max_k:
        raise InvalidInput(
            f"k must be at most {settings.search_max_k}.",
            details=[{"field": "k", "message": f"at most {settings.search_max_k}"}],
        )
    visibility = visibility_for(session, principal)
    hits = live.search(body.query, body.k, index_filters(body.filters, visibility))
    snippet_of = snippet_maker(live, body.query)
    results = [item.to_search_hit(snippet_of) for item in resolve_hits(session, hits, visibility)]
    return SearchResponse(hits=results, took_ms=round((time.perf_counter() - started) * 1000, 2))
