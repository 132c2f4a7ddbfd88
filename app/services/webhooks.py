"""Inbound webhooks of ticket tools: verified by the tool's own mechanism, taken once per
delivery id, never letting an older delivery overwrite newer state. An open ticket gets a
suggestion (and a queued note); a closed one is stored as a resolved ticket, and its final
team recorded against the suggestion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.schemas.connectors import WebhookAnswer
from app.schemas.outcomes import OutcomeIn
from app.schemas.suggest import SuggestRequest
from app.services import outbox
from app.services.audit import record
from app.services.connector_notes import suggestion_note
from app.services.connectors import connector_principal, get_connector, tool_settings
from app.services.contractors import contractor_message
from app.services.events import record_suggestion
from app.services.outcomes import record_outcome
from app.services.refs import ticket_id
from app.services.suggest import suggest_as_configured
from app.settings import Settings
from connectors.base import MARKER_PREFIX, Inbound, InboundTicket, Note, ToolSettings
from connectors.registry import connector_for
from db.models import InboundDelivery, ToolTicket, as_utc, utcnow
from db.session import transaction
from ingest.live_index import LiveIndex
from ingest.pipeline import ingest_tickets
from routing.service import Router


@dataclass(frozen=True)
class WebhookResult:
    answer: WebhookAnswer
    inline: dict[str, Any] | None = None  # what Znuny applies from the invoker's answer
    # What the inline answer carries, to queue instead when the answer went out without it.
    writes: tuple[tuple[str, dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class HookConfig:
    """What taking a delivery needs of its connector (read once, outside the transaction)."""

    id: int
    name: str
    tool: str
    write_back: bool
    set_group: bool
    group_map: dict[str, str]


def _older(ticket: InboundTicket, state: ToolTicket | None) -> bool:
    if state is None or state.tool_updated_at is None or ticket.updated_at is None:
        return False
    return as_utc(ticket.updated_at) < as_utc(state.tool_updated_at)


def _seen(session: Session, connector_id: int, delivery_id: str) -> bool:
    return (
        session.scalar(
            select(InboundDelivery.id).where(
                InboundDelivery.connector_id == connector_id,
                InboundDelivery.delivery_id == delivery_id,
            )
        )
        is not None
    )


def _state(session: Session, connector_id: int, key: str) -> ToolTicket | None:
    return session.scalar(
        select(ToolTicket).where(
            ToolTicket.connector_id == connector_id, ToolTicket.ticket_key == key
        )
    )


def _remember(
    session: Session, config: HookConfig, ticket: InboundTicket, **values: Any
) -> ToolTicket:
    state = _state(session, config.id, ticket.key)
    if state is None:
        state = ToolTicket(connector_id=config.id, ticket_key=ticket.key, number=ticket.number)
        session.add(state)
    state.number = ticket.number
    state.closed = ticket.closed
    state.tool_updated_at = ticket.updated_at
    state.updated_at = utcnow()
    if state.first_team is None:
        # The first team the tool shows the ticket in: its first escalation.
        state.first_team = config.group_map.get(ticket.group or "")
    for name, value in values.items():
        setattr(state, name, value)
    return state


def _answer(
    status: str, config: HookConfig, ticket: InboundTicket | None, queued: int = 0
) -> WebhookAnswer:
    ref = ticket_id(config.name, ticket.number) if ticket is not None else None
    return WebhookAnswer(status=status, ticket=ref, queued=queued)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Accepted:
    """A webhook verified by its tool's mechanism and parsed: what is left is to take it."""

    config: HookConfig
    inbound: Inbound


def hook_config(factory: sessionmaker[Session], name: str) -> tuple[HookConfig, ToolSettings]:
    with factory() as session:
        row = get_connector(session, name)
        config = HookConfig(
            row.id, row.name, row.tool, row.write_back, row.set_group, dict(row.group_map)
        )
        return config, tool_settings(row)


def accept_webhook(
    factory: sessionmaker[Session],
    *,
    name: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    now: float,
) -> Accepted:
    """Verify and parse (fast, no model): raises SignatureInvalid or PayloadInvalid."""
    config, credentials = hook_config(factory, name)
    connector = connector_for(config.tool)
    connector.verify(credentials, headers, query, body, now=now)
    return Accepted(config, connector.parse(headers, query, body))


def receive_webhook(
    factory: sessionmaker[Session],
    live: LiveIndex,
    router: Router,
    settings: Settings,
    *,
    name: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    now: float,
) -> WebhookResult:
    accepted = accept_webhook(factory, name=name, headers=headers, query=query, body=body, now=now)
    return take_inbound(factory, live, router, settings, accepted.config, accepted.inbound)


def take_inbound(
    factory: sessionmaker[Session],
    live: LiveIndex,
    router: Router,
    settings: Settings,
    config: HookConfig,
    inbound: Inbound,
    *,
    inline: bool = True,
) -> WebhookResult:
    """One verified delivery (a webhook's, or a ticket a poller found changed): once per
    delivery id, never over newer state; an open ticket is suggested, a closed one stored."""
    with factory() as session:
        if _seen(session, config.id, inbound.delivery_id):
            return WebhookResult(_answer("duplicate", config, inbound.ticket))
        state = _state(session, config.id, inbound.ticket.key) if inbound.ticket else None
        stale = inbound.ticket is not None and _older(inbound.ticket, state)
    ticket = inbound.ticket
    if ticket is None or stale:
        status = "ignored" if ticket is None else "stale"
        with _delivery(factory, config, inbound, status):
            pass
        return WebhookResult(_answer(status, config, ticket))
    if ticket.closed:
        return _closed(factory, live, settings, config, inbound, ticket)
    return _open(factory, live, router, settings, config, inbound, ticket, state, inline=inline)


class _delivery:  # noqa: N801 - a context manager read as a statement
    """The transaction that records a delivery with its effects: a concurrent replay of
    the same delivery id fails on the unique key, and its effects roll back with it."""

    def __init__(
        self, factory: sessionmaker[Session], config: HookConfig, inbound: Inbound, outcome: str
    ) -> None:
        self.factory, self.config, self.inbound, self.outcome = factory, config, inbound, outcome
        self.duplicate = False

    def __enter__(self) -> Session:
        self.context = transaction(self.factory)
        session = self.context.__enter__()
        ticket = self.inbound.ticket
        session.add(
            InboundDelivery(
                connector_id=self.config.id,
                delivery_id=self.inbound.delivery_id,
                ticket_key=ticket.key if ticket else None,
                outcome=self.outcome,
            )
        )
        return session

    def __exit__(self, *exc: Any) -> bool:
        try:
            self.context.__exit__(*exc)
        except IntegrityError:
            self.duplicate = True
            return True
        if exc[0] is IntegrityError:
            self.duplicate = True
            return True
        return False


def _open(
    factory: sessionmaker[Session],
    live: LiveIndex,
    router: Router,
    settings: Settings,
    config: HookConfig,
    inbound: Inbound,
    ticket: InboundTicket,
    state: ToolTicket | None,
    *,
    inline: bool,
) -> WebhookResult:
    """`inline`: the tool applies the answer (Znuny) and will get it; else the note and the
    group go through the queue."""
    connector = connector_for(config.tool)
    request = SuggestRequest(
        title=(ticket.title or f"Ticket {ticket.number}")[:1000],
        description=ticket.description[:50_000],
    )
    with factory() as session:
        suggestion = suggest_as_configured(
            session,
            live,
            router,
            request,
            settings,
        )
    team = suggestion.team
    # Write back once per ticket (and again after a reopen), not on every update.
    first = state is None or state.suggested_at is None or state.closed
    group = None
    if config.set_group and team is not None and not team.abstained and first:
        group = next((g for g, t in config.group_map.items() if t == team.name), None)
        if group == ticket.group:
            group = None
    text = suggestion_note(suggestion, public_url=settings.public_url)
    ref = ticket_id(config.name, ticket.number)
    inline_answer: dict[str, Any] | None = None
    queued = 0
    scope = _delivery(factory, config, inbound, "suggested")
    with scope as session:
        _remember(
            session,
            config,
            ticket,
            suggested_team=team.name if team else None,
            confidence=team.confidence if team else None,
            suggested_at=utcnow(),
        )
        writes: list[tuple[str, dict[str, Any]]] = []
        if config.write_back and first:
            writes.append(("note", {"ticket_key": ticket.key, "text": text}))
            if group is not None and connector.supports_set_group:
                writes.append(("group", {"ticket_key": ticket.key, "group": group}))
        if connector.answers_inline and inline:
            note = Note(text, f"{MARKER_PREFIX}{inbound.delivery_id[:16]}")
            inline_answer = connector.inline_answer(
                note if config.write_back and first else None, group
            )
        else:
            queued += enqueue_writes(session, config.name, ref, writes)
            writes = []
        notification = (
            contractor_message(
                session,
                suggestion,
                ticket_ref=ref,
                title=ticket.title,
                public_url=settings.public_url,
            )
            if first
            else None
        )
        if notification is not None:
            firm, message = notification
            outbox.enqueue(
                session,
                connector=config.name,
                kind="contractor",
                target=f"firm:{firm}",
                payload={"firm": firm, "message": message},
            )
            queued += 1
        record_suggestion(
            session,
            principal=connector_principal(config.name),
            channel="connector",
            suggestion=suggestion,
            ticket=(config.name, ticket.number),
            retention_days=settings.event_retention_days,
        )
        record(
            session,
            connector_principal(config.name),
            "connector.suggest",
            ref,
            team=team.name if team else None,
            confidence=team.confidence if team else None,
            escalation=suggestion.escalation.action,
        )
    if scope.duplicate:
        return WebhookResult(_answer("duplicate", config, ticket))
    return WebhookResult(_answer("suggested", config, ticket, queued), inline_answer, tuple(writes))


def enqueue_writes(
    session: Session, connector: str, ref: str, writes: list[tuple[str, dict[str, Any]]]
) -> int:
    """Queue a ticket's note and group (in the caller's transaction); how many."""
    for kind, payload in writes:
        outbox.enqueue(session, connector=connector, kind=kind, target=ref, payload=payload)
    return len(writes)


def _closed(
    factory: sessionmaker[Session],
    live: LiveIndex,
    settings: Settings,
    config: HookConfig,
    inbound: Inbound,
    ticket: InboundTicket,
) -> WebhookResult:
    team = config.group_map.get(ticket.group or "")
    resolved = ticket.resolved(source=config.name, team=team)
    # Upsert by (source, number): a reopened and closed again ticket is updated, not added.
    ingest_tickets(
        factory,
        live.embedder,
        [resolved],
        max_words=settings.chunk_max_words,
        second=live.second_embedder,
    )
    live.refresh(force=True)
    scope = _delivery(factory, config, inbound, "stored")
    with scope as session:
        state = _remember(session, config, ticket)
        if team is not None:
            record_outcome(
                session,
                principal=connector_principal(config.name),
                outcome=OutcomeIn(
                    ticket_source=config.name,
                    ticket_id=ticket.number,
                    suggested_team=state.suggested_team,
                    first_team=state.first_team,
                    final_team=team,
                ),
            )
    if scope.duplicate:
        return WebhookResult(_answer("duplicate", config, ticket))
    return WebhookResult(_answer("stored", config, ticket))
