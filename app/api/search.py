"""POST /search: find articles and resolved tickets for a query."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from app.auth import PrincipalDep, current_principal
from app.deps import LiveIndexDep, SessionDep, SettingsDep
from app.errors import InvalidInput
from app.schemas.search import SearchRequest, SearchResponse
from app.services.search import index_filters, resolve_hits, snippet_maker
from app.services.visibility import visibility_for
from index.preference import candidates_for, prefer
from index.searcher import DocumentHit

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
    filters = index_filters(body.filters, visibility)
    if body.prefer_language:
        wanted = body.prefer_language.lower()

        def in_wanted_language(hit: DocumentHit) -> bool:
            meta = live.searcher.meta(hit.best_passage_id)
            return meta is not None and meta.facets.get("language") == wanted

        candidates = live.search(body.query, candidates_for(body.k), filters)
        hits = prefer(candidates, in_wanted_language, body.k)
    else:
        hits = live.search(body.query, body.k, filters)
    snippet_of = snippet_maker(live, body.query)
    results = [item.to_search_hit(snippet_of) for item in resolve_hits(session, hits, visibility)]
    return SearchResponse(hits=results, took_ms=round((time.perf_counter() - started) * 1000, 2))
