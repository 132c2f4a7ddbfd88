"""Polling a tool that sends no webhooks (GLPI 10): each round asks for the tickets changed
since its cursor and takes each one as the GLPI 11 webhook's delivery would be taken (a
suggestion and a queued note for an open ticket, a stored resolved ticket for a solved or
closed one, an older change never over a newer one). The cursor is saved after every page;
a lease lets one replica poll a connector at a time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth import Principal
from app.errors import InvalidInput
from app.services.audit import record
from app.services.connectors import get_connector
from app.services.webhooks import HookConfig, hook_config, take_inbound
from app.settings import Settings
from connectors.base import Inbound, ToolSettings
from connectors.errors import ConnectorError
from connectors.glpi import glpi_session
from connectors.glpi_changes import (
    GLPI_TIME,
    PAGE_SIZE,
    changed_tickets,
    later,
    newest_change,
    threshold,
)
from db.models import ConnectorConfig, ConnectorPoll, utcnow
from db.session import transaction
from ingest.live_index import LiveIndex
from routing.service import Router

POLLED_TOOLS = ("glpi",)
# A replica that stops mid-round holds the connector this long; another then takes over.
LEASE = timedelta(minutes=10)
MAX_PAGES = 20  # per round; the rest waits for the next round, from the saved cursor


@dataclass
class PollSummary:
    started: bool = False  # a first round: the cursor set to the tool's newest change
    busy: bool = False  # another replica is polling this connector now
    pages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    queued: int = 0
    cursor: str | None = None

    @property
    def changed(self) -> int:
        return sum(self.outcomes.values())


def set_poll_interval(
    session: Session, *, principal: Principal, name: str, seconds: float | None
) -> None:
    """Poll a connector in the service every `seconds` (None or 0: only from the CLI)."""
    principal.require("admin")
    row = get_connector(session, name)
    if row.tool not in POLLED_TOOLS:
        raise InvalidInput(f"{row.tool} sends webhooks; only GLPI 10 is polled.")
    poll = session.get(ConnectorPoll, row.id)
    if poll is None:
        poll = ConnectorPoll(connector_id=row.id, last_changed=0)
        session.add(poll)
    poll.interval_seconds = seconds or None
    record(session, principal, "connector.poll", f"connector:{name}", every=seconds or None)


def poll_interval(session: Session, name: str) -> float | None:
    poll = session.get(ConnectorPoll, get_connector(session, name).id)
    return poll.interval_seconds if poll is not None else None


def due_connectors(session: Session, now: datetime) -> list[str]:
    """Connectors the service polls whose interval has passed since their last round."""
    rows = session.execute(
        select(ConnectorPoll, ConnectorConfig.name)
        .join_from(ConnectorPoll, ConnectorConfig)
        .where(ConnectorPoll.interval_seconds.is_not(None))
    ).all()
    return [
        name
        for poll, name in rows
        if poll.last_run_at is None
        or poll.last_run_at + timedelta(seconds=poll.interval_seconds or 0) <= now
    ]


def _lease(factory: sessionmaker[Session], connector_id: int, now: datetime) -> bool:
    """Take the connector's lease by compare-and-set (two replicas never poll at once)."""
    with transaction(factory) as session:
        if session.get(ConnectorPoll, connector_id) is None:
            session.add(ConnectorPoll(connector_id=connector_id, last_changed=0))
    with transaction(factory) as session:
        taken = session.execute(
            update(ConnectorPoll)
            .where(
                ConnectorPoll.connector_id == connector_id,
                or_(ConnectorPoll.leased_until.is_(None), ConnectorPoll.leased_until < now),
            )
            .values(leased_until=now + LEASE)
        )
        return getattr(taken, "rowcount", 0) == 1


def _save(factory: sessionmaker[Session], connector_id: int, **values: object) -> None:
    with transaction(factory) as session:
        poll = session.get(ConnectorPoll, connector_id)
        if poll is not None:
            for name, value in values.items():
                setattr(poll, name, value)


@dataclass
class _Round:
    factory: sessionmaker[Session]
    live: LiveIndex
    router: Router
    settings: Settings
    config: HookConfig
    summary: PollSummary

    def take(
        self, client: httpx.Client, credentials: ToolSettings, headers: dict[str, str], cursor: str
    ) -> str:
        """Take the changes after `cursor` page by page; the newest change taken."""
        after, start, newest = threshold(cursor), 0, cursor
        while self.summary.pages < MAX_PAGES:
            page = changed_tickets(client, credentials, headers, after=after, start=start)
            self.summary.pages += 1
            for ticket, stamp in zip(page.tickets, page.stamps, strict=True):
                # A change is a delivery: the same ticket at the same date_mod is taken once.
                inbound = Inbound(f"poll:{ticket.key}:{stamp}", "poll", ticket)
                result = take_inbound(
                    self.factory, self.live, self.router, self.settings, self.config, inbound
                )
                self.summary.outcomes[result.answer.status] += 1
                self.summary.queued += result.answer.queued
                newest = later(newest, stamp)
            _save(self.factory, self.config.id, cursor=newest)
            if not page.full:
                break
            # Ask again from the newest change taken (keyset), unless a page of changes
            # within the overlap holds it in place: then the next rows of the same query.
            following = threshold(newest)
            after, start = (following, 0) if following > after else (after, start + PAGE_SIZE)
        return newest


def poll_once(
    factory: sessionmaker[Session],
    live: LiveIndex,
    router: Router,
    settings: Settings,
    client: httpx.Client,
    *,
    name: str,
    since: datetime | None = None,
) -> PollSummary:
    """One round: the changes since the cursor (or `since`), each taken like a webhook's."""
    config, credentials = hook_config(factory, name)
    if config.tool not in POLLED_TOOLS:
        raise InvalidInput(f"{config.tool} sends webhooks; only GLPI 10 is polled.")
    summary = PollSummary()
    if not _lease(factory, config.id, utcnow()):
        summary.busy = True
        return summary
    with factory() as session:
        poll = session.get(ConnectorPoll, config.id)
        cursor = poll.cursor if poll is not None else None
    if since is not None:
        cursor = f"{since.replace(tzinfo=None):{GLPI_TIME}}"
    try:
        with glpi_session(client, credentials) as headers:
            if cursor is None:
                # From now on, in GLPI's clock: the history is `connectors import`'s work.
                summary.started = True
                newest = newest_change(client, credentials, headers)
                summary.cursor = newest or "1970-01-01 00:00:00"  # no ticket yet: all new
                _save(factory, config.id, cursor=summary.cursor)
            else:
                round_ = _Round(factory, live, router, settings, config, summary)
                summary.cursor = round_.take(client, credentials, headers, cursor)
    except ConnectorError as exc:
        _save(factory, config.id, last_error=str(exc)[:2000])
        raise
    finally:
        _save(
            factory,
            config.id,
            leased_until=None,
            last_run_at=utcnow(),
            last_changed=summary.changed,
        )
    _save(factory, config.id, last_error=None)
    return summary
