"""Links of stored tickets back to the ticket in its tool (a connector's source)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.connectors import tool_settings
from connectors.registry import connector_for
from db.models import ConnectorConfig, ToolTicket

# Tools whose API id is the number people see: a link needs no stored mapping.
_NUMBER_IS_KEY = frozenset({"jira", "glpi"})


def tool_links(session: Session, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(source, number) -> URL in the tool, for the refs whose source is a connector."""
    wanted = set(refs)
    if not wanted:
        return {}
    sources = {source for source, _ in wanted}
    rows = session.scalars(select(ConnectorConfig).where(ConnectorConfig.name.in_(sources)))
    links: dict[tuple[str, str], str] = {}
    for row in rows:
        numbers = [number for source, number in wanted if source == row.name]
        keys = {
            state.number: state.ticket_key
            for state in session.scalars(
                select(ToolTicket).where(
                    ToolTicket.connector_id == row.id, ToolTicket.number.in_(numbers)
                )
            )
        }
        connector, settings = connector_for(row.tool), tool_settings(row)
        for number in numbers:
            key = keys.get(number) or (number if row.tool in _NUMBER_IS_KEY else None)
            if key is not None:
                links[(row.name, number)] = connector.ticket_url(settings, key)
    return links
