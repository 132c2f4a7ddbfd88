"""Suggestion and search events: what the KPIs are computed from (issue 12, item 1).

Each request adds its rows to its own session and commits them with one transaction (one
INSERT for the event, one executemany for the solutions shown); nothing waits on another
round trip. Each event also adds one to its day's KPI rollup (`db.kpi_rollups`, one UPSERT
in the same transaction). Pruning past the retention runs at start-up and on every
`PRUNE_EVERY`th event: the rollups first lose what is deleted, then one indexed DELETE per
table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.schemas.search import SearchHit
from app.services.suggest import Suggestion
from db.fix_rollups import offered
from db.kpi_rollups import forget_before, search_added, suggestion_added
from db.models import SearchEvent, SuggestionEvent, SuggestionShown, utcnow
from ingest.pii import mask_personal_data

Channel = Literal["api", "page", "connector"]

PRUNE_EVERY = 1000
MAX_QUERY_CHARS = 2000


def record_suggestion(
    session: Session,
    *,
    principal: Principal,
    channel: Channel,
    suggestion: Suggestion,
    ticket: tuple[str, str] | None,
    retention_days: int,
) -> int:
    """Add one suggestion event and the solutions it showed; the caller commits."""
    team = suggestion.team
    event = SuggestionEvent(
        at=utcnow(),
        channel=channel,
        actor=principal.name,
        role=principal.role,
        company=principal.company,
        ticket_source=ticket[0] if ticket else None,
        ticket_id=ticket[1] if ticket else None,
        team=team.name if team else None,
        confidence=team.confidence if team else None,
        action=suggestion.escalation.action,
        escalation_team=suggestion.escalation.team,
    )
    session.add(event)
    session.flush()
    rows = [
        {"event_id": event.id, "rank": rank, "target": solution.id}
        for rank, solution in enumerate(suggestion.solutions, start=1)
    ]
    if rows:
        session.execute(insert(SuggestionShown), rows)
    suggestion_added(session, event)
    offered(session, event, [solution.id for solution in suggestion.solutions])
    if event.id % PRUNE_EVERY == 0:
        prune(session, retention_days)
    return event.id


def record_search(
    session: Session,
    *,
    principal: Principal,
    channel: Channel,
    query: str,
    hits: Sequence[SearchHit],
    retention_days: int,
) -> int:
    """Add one search event with its query masked; the caller commits."""
    event = SearchEvent(
        at=utcnow(),
        channel=channel,
        role=principal.role,
        company=principal.company,
        query=mask_personal_data(query)[:MAX_QUERY_CHARS],
        results=len(hits),
        top_score=max((h.score for h in hits), default=None),
    )
    session.add(event)
    session.flush()
    search_added(session, event)
    if event.id % PRUNE_EVERY == 0:
        prune(session, retention_days)
    return event.id


def prune(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Delete events older than the retention; the number of events deleted."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    forget_before(session, cutoff)
    old = select(SuggestionEvent.id).where(SuggestionEvent.at < cutoff)
    session.execute(delete(SuggestionShown).where(SuggestionShown.event_id.in_(old)))
    gone = session.execute(delete(SuggestionEvent).where(SuggestionEvent.at < cutoff))
    searches = session.execute(delete(SearchEvent).where(SearchEvent.at < cutoff))
    return int(getattr(gone, "rowcount", 0) or 0) + int(getattr(searches, "rowcount", 0) or 0)
