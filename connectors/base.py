"""The connector protocol and the shapes every tool maps to and from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from connectors.errors import PayloadInvalid
from ingest.tickets import ResolvedTicket

# Every note Stellwerk writes ends with `stellwerk-delivery:<outbox id>`: an export skips
# such notes, and a delivery interrupted by a crash is looked up by it before a resend.
MARKER_PREFIX = "stellwerk-delivery:"

# Header names arrive in any case; connectors read them lower-cased.
Headers = Mapping[str, str]


@dataclass(frozen=True)
class ToolSettings:
    """What a connector needs of its configuration to verify, call and link."""

    name: str
    tool: str
    url: str
    secret: str | None = None
    token: str | None = None

    @property
    def base(self) -> str:
        return self.url.rstrip("/")


@dataclass(frozen=True)
class InboundTicket:
    """A ticket as the tool sent or exported it, mapped to what Stellwerk reads."""

    key: str  # the id the tool's API takes (Zammad ticket.id, Jira key, GLPI id)
    number: str  # the number people see; the resolved ticket is stored under it
    title: str
    description: str = ""
    resolution: str = ""
    group: str | None = None
    closed: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None

    def resolved(self, *, source: str, team: str | None) -> ResolvedTicket:
        """The canonical resolved ticket, stored under source NAME and id the number."""
        return ResolvedTicket(
            id=self.number,
            source=source,
            title=self.title or f"Ticket {self.number}",
            description=self.description,
            resolution=self.resolution,
            team=team,
            created_at=self.created_at,
            resolved_at=self.resolved_at or (self.updated_at if self.closed else None),
        )


@dataclass(frozen=True)
class Inbound:
    """A verified webhook: its delivery id and the ticket it carries (None: nothing to do)."""

    delivery_id: str
    event: str
    ticket: InboundTicket | None


def inbound_payload(inbound: Inbound) -> dict[str, Any]:
    """A verified delivery as JSON, to be taken later from the queue (the webhook deadline)."""
    ticket = inbound.ticket
    fields: dict[str, Any] | None = None
    if ticket is not None:
        fields = {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in vars(ticket).items()
        }
    return {"delivery_id": inbound.delivery_id, "event": inbound.event, "ticket": fields}


def inbound_of_payload(payload: Mapping[str, Any]) -> Inbound:
    fields = payload.get("ticket")
    ticket = None
    if isinstance(fields, dict):
        times = ("created_at", "updated_at", "resolved_at")
        values: dict[str, Any] = {k: parse_time(v) if k in times else v for k, v in fields.items()}
        ticket = InboundTicket(**values)
    return Inbound(str(payload["delivery_id"]), str(payload["event"]), ticket)


@dataclass(frozen=True)
class Note:
    """An internal note for the tool; `marker` finds it again after a crash."""

    text: str
    marker: str

    @property
    def html(self) -> str:
        from html import escape

        return "<br>".join(escape(line) for line in self.text.splitlines())


@dataclass(frozen=True)
class ExportPage:
    """One page of a tool's closed tickets; `cursor` resumes after it (None: the last)."""

    tickets: list[InboundTicket]
    cursor: dict[str, Any] | None
    total: int | None = None
    skipped: list[str] = field(default_factory=list)


class Connector(Protocol):
    """One ticket tool: verify and parse its webhooks, write back, page through its export."""

    tool: str
    # Znuny applies what its invoker's answer returns: the note goes back in the same call.
    answers_inline: bool
    supports_set_group: bool

    def verify(
        self, settings: ToolSettings, headers: Headers, query: Headers, body: bytes, *, now: float
    ) -> None:
        """Raise SignatureInvalid unless the request is the tool's, by the tool's mechanism."""

    def parse(self, headers: Headers, query: Headers, body: bytes) -> Inbound: ...

    def add_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, note: Note
    ) -> None: ...

    def has_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, marker: str
    ) -> bool:
        """Whether a note with `marker` is on the ticket (after a crash mid-delivery)."""

    def set_group(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, group: str
    ) -> None: ...

    def inline_answer(self, note: Note | None, group: str | None) -> dict[str, Any]: ...

    def export(
        self,
        client: httpx.Client,
        settings: ToolSettings,
        *,
        since: datetime | None,
        cursor: dict[str, Any] | None,
    ) -> ExportPage: ...

    def check(self, client: httpx.Client, settings: ToolSettings) -> str:
        """Call the tool once with the token; a one-line description of what answered."""

    def ticket_url(self, settings: ToolSettings, ticket_key: str) -> str: ...


def json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadInvalid("The webhook body is not JSON.") from exc
    if not isinstance(data, dict):
        raise PayloadInvalid("The webhook body is not a JSON object.")
    return data


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (Zammad, Jira, GLPI), 'YYYY-MM-DD HH:MM:SS' (Znuny, GLPI) or epoch
    milliseconds (Jira's `timestamp`); naive values are taken as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def text_of_html(value: Any) -> str:
    """Plain text of an HTML body (Zammad and GLPI store HTML)."""
    import re
    from html import unescape

    if not isinstance(value, str):
        return ""
    if "&lt;" in value and "<" not in value:
        value = unescape(value)  # GLPI 10's API returns rich text entity-encoded
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", value)
    text = re.sub(r"<[^>]+>", "", text)
    lines = [line.strip() for line in unescape(text).splitlines()]
    return "\n".join(line for line in lines if line)


def string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)


def lower_keys(mapping: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in mapping.items()}
