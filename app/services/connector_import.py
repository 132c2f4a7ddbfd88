"""History import: a tool's closed tickets, page by page through its REST export, stored
as resolved tickets; the cursor is saved after every page, so an interrupted run resumes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.services.connectors import get_connector, tool_settings
from connectors.registry import connector_for
from db.models import ToolTicket, utcnow
from db.session import transaction
from index.embedder import Embedder
from ingest.pipeline import ingest_tickets


@dataclass
class ImportSummary:
    pages: int = 0
    tickets: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    resumed: bool = False
    total: int | None = None


def _cursor_for(saved: dict[str, Any] | None, since: datetime | None) -> dict[str, Any] | None:
    """The saved cursor, if it belongs to an import with the same --since."""
    if not saved or saved.get("since") != (since.isoformat() if since else None):
        return None
    page = saved.get("page")
    return page if isinstance(page, dict) else None


def import_history(
    factory: sessionmaker[Session],
    embedder: Embedder,
    client: httpx.Client,
    *,
    name: str,
    since: datetime | None,
    max_words: int,
    restart: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    second: Embedder | None = None,
) -> ImportSummary:
    with factory() as session:
        row = get_connector(session, name)
        settings, tool, group_map = tool_settings(row), row.tool, dict(row.group_map)
        cursor = None if restart else _cursor_for(row.import_cursor, since)
    connector = connector_for(tool)
    summary = ImportSummary(resumed=cursor is not None)
    while True:
        page = connector.export(client, settings, since=since, cursor=cursor)
        summary.pages += 1
        summary.total = page.total if page.total is not None else summary.total
        closed = [t for t in page.tickets if t.closed]
        resolved = [t.resolved(source=name, team=group_map.get(t.group or "")) for t in closed]
        report = ingest_tickets(factory, embedder, resolved, max_words=max_words, second=second)
        summary.tickets += len(resolved)
        summary.added += report.added
        summary.updated += report.updated
        summary.unchanged += report.unchanged
        with transaction(factory) as session:
            row = get_connector(session, name)
            for ticket in closed:
                state = session.scalar(
                    select(ToolTicket).where(
                        ToolTicket.connector_id == row.id, ToolTicket.ticket_key == ticket.key
                    )
                )
                if state is None:
                    state = ToolTicket(connector_id=row.id, ticket_key=ticket.key)
                    session.add(state)
                # An import never moves a ticket's state back: a webhook may know newer.
                if state.tool_updated_at is None or (
                    ticket.updated_at is not None and ticket.updated_at >= state.tool_updated_at
                ):
                    state.number = ticket.number
                    state.closed = True
                    state.tool_updated_at = ticket.updated_at
                state.number = state.number or ticket.number
                state.updated_at = utcnow()
            row.import_cursor = (
                {"since": since.isoformat() if since else None, "page": page.cursor}
                if page.cursor is not None
                else None
            )
        if progress is not None:
            progress(len(page.tickets), summary.total)
        if page.cursor is None:
            return summary
        cursor = page.cursor
