"""Connectors as configuration: add, list, remove, and the settings a connector calls with."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import Conflict, ConnectorNotFound, InvalidInput
from app.schemas.connectors import ConnectorOut
from app.services.audit import record
from app.services.refs import API_PREFIX
from connectors.base import ToolSettings
from connectors.registry import TOOLS
from db.models import ConnectorConfig
from ingest.tickets import SOURCE_PATTERN


def connector_principal(name: str) -> Principal:
    """Who a connector's writes are recorded as (audit, outcomes)."""
    return Principal(key_id=None, name=f"connector:{name}", role="integration")


def parse_group_map(pairs: Iterable[str]) -> dict[str, str]:
    """`TOOL_GROUP=team` pairs (a group name may hold spaces, not '=')."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        group, sep, team = pair.rpartition("=")
        if not sep or not group.strip() or not team.strip():
            raise InvalidInput(f"Invalid map {pair!r}: expected TOOL_GROUP=team.")
        mapping[group.strip()] = team.strip()
    return mapping


def add_connector(
    session: Session,
    *,
    principal: Principal,
    name: str,
    tool: str,
    url: str,
    secret: str | None,
    token: str | None,
    write_back: bool,
    set_group: bool,
    group_map: dict[str, str],
) -> ConnectorConfig:
    principal.require("admin")
    if not re.fullmatch(SOURCE_PATTERN, name):
        raise InvalidInput(f"Invalid name {name!r}: letters, digits, '.', '_', '-'; up to 64.")
    if tool not in TOOLS:
        raise InvalidInput(f"Unknown tool {tool!r}; one of {', '.join(TOOLS)}.")
    if not re.match(r"^https?://[^\s/]+", url):
        raise InvalidInput(f"Invalid URL {url!r}: expected http(s)://host[/path].")
    if session.scalar(select(ConnectorConfig).where(ConnectorConfig.name == name)):
        raise Conflict(f"A connector {name!r} exists; remove it first.")
    row = ConnectorConfig(
        name=name,
        tool=tool,
        url=url.rstrip("/"),
        secret=secret or None,
        token=token or None,
        write_back=write_back,
        set_group=set_group,
        group_map=group_map,
    )
    session.add(row)
    session.flush()
    # The audit names the connector and what it may do, never its secret or token.
    record(session, principal, "connector.create", f"connector:{name}", tool=tool, url=row.url)
    return row


def get_connector(session: Session, name: str) -> ConnectorConfig:
    row = session.scalar(select(ConnectorConfig).where(ConnectorConfig.name == name))
    if row is None:
        raise ConnectorNotFound(f"No connector {name!r}.")
    return row


def list_connectors(session: Session) -> list[ConnectorConfig]:
    return list(session.scalars(select(ConnectorConfig).order_by(ConnectorConfig.name)))


def remove_connector(session: Session, *, principal: Principal, name: str) -> None:
    principal.require("admin")
    session.delete(get_connector(session, name))
    record(session, principal, "connector.delete", f"connector:{name}")


def tool_settings(row: ConnectorConfig) -> ToolSettings:
    return ToolSettings(
        name=row.name, tool=row.tool, url=row.url, secret=row.secret, token=row.token
    )


def connector_out(row: ConnectorConfig) -> ConnectorOut:
    return ConnectorOut(
        name=row.name,
        tool=row.tool,
        url=row.url,
        has_secret=bool(row.secret),
        has_token=bool(row.token),
        write_back=row.write_back,
        set_group=row.set_group,
        group_map=dict(row.group_map),
        webhook=f"{API_PREFIX}/connectors/{row.name}/webhook",
        created_at=row.created_at,
    )
