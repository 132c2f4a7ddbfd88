"""Znuny: the GenericInterface `Ticket::Generic` invoker, answered in the same call, and
the closed tickets through TicketSearch + TicketGet.

Invoker (request data, response elements such as OTRS_TicketArticleAdd and
OTRS_TicketQueueSet): https://doc.znuny.org/znuny_lts/admin/webservices/invoker/index.html
TicketGet / TicketSearch / TicketUpdate: https://doc.znuny.org/znuny-dev-api/API/Kernel/
GenericInterface/Operation/Ticket/TicketGet.html, .../TicketSearch.html, .../TicketUpdate.html
(routes of the GenericTicketConnectorREST web service: GET /Ticket, GET and PATCH
/Ticket/:TicketID)
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import httpx

from connectors.base import (
    MARKER_PREFIX,
    ExportPage,
    Headers,
    Inbound,
    InboundTicket,
    Note,
    ToolSettings,
    json_body,
    parse_time,
    string,
)
from connectors.errors import NotSupported, PayloadInvalid, SignatureInvalid, ToolRejected
from connectors.http import json_of, send
from connectors.signatures import check_equal, require_secret

PAGE_SIZE = 50
TOKEN_HEADER = "x-stellwerk-token"  # noqa: S105 - a header name, not a token


def _articles(ticket: dict[str, Any]) -> list[dict[str, Any]]:
    articles = ticket.get("Article") or []
    if isinstance(articles, dict):
        articles = [articles]
    return [
        a for a in articles if isinstance(a, dict) and MARKER_PREFIX not in string(a.get("Body"))
    ]


def znuny_ticket(ticket: dict[str, Any]) -> InboundTicket:
    if "TicketID" not in ticket or "TicketNumber" not in ticket:
        raise PayloadInvalid("A Znuny ticket needs TicketID and TicketNumber.")
    closed = string(ticket.get("StateType")).lower().startswith("closed") or string(
        ticket.get("State")
    ).lower().startswith("closed")
    bodies = [string(a.get("Body")) for a in _articles(ticket) if a.get("Body")]
    return InboundTicket(
        key=string(ticket["TicketID"]),
        number=string(ticket["TicketNumber"]),
        title=string(ticket.get("Title")),
        description=bodies[0] if bodies else "",
        resolution=bodies[-1] if closed and len(bodies) > 1 else "",
        group=string(ticket.get("Queue")) or None,
        closed=closed,
        created_at=parse_time(ticket.get("Created")),
        updated_at=parse_time(ticket.get("Changed")),
    )


class ZnunyConnector:
    tool = "znuny"
    answers_inline = True
    supports_set_group = True

    def verify(
        self, settings: ToolSettings, headers: Headers, query: Headers, body: bytes, *, now: float
    ) -> None:
        """The invoker's endpoint URL carries `?token=SECRET`, or a header does (Znuny's
        HTTP::REST requester sets additional headers); Znuny signs nothing itself."""
        secret = require_secret(settings.secret)
        check_equal(headers.get(TOKEN_HEADER) or query.get("token"), secret, "token")

    def parse(self, headers: Headers, query: Headers, body: bytes) -> Inbound:
        data = json_body(body)
        ticket = data.get("Ticket")
        if isinstance(ticket, list):
            ticket = ticket[0] if ticket else None
        event = data.get("Event")
        name = string(event.get("Event") if isinstance(event, dict) else event) or "unknown"
        if not isinstance(ticket, dict):
            raise PayloadInvalid("A Ticket::Generic request carries `Ticket`.")
        mapped = znuny_ticket(ticket)
        # Znuny sends no delivery id; a retry of the same event repeats the same ticket
        # change, so the event and the ticket's change time identify the delivery.
        raw = f"{mapped.key}|{name}|{string(ticket.get('Changed'))}|{len(_articles(ticket))}"
        delivery = headers.get("x-stellwerk-delivery") or hashlib.sha256(raw.encode()).hexdigest()
        if not delivery:
            raise SignatureInvalid("No delivery id.")
        return Inbound(delivery, name, mapped)

    # The note goes back in the invoker's answer; only when that answer had to go before
    # the suggestion was ready (the webhook deadline) is it written by TicketUpdate
    # (PATCH /Ticket/:TicketID of GenericTicketConnectorREST), which needs --token.

    def _update(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, **data: Any
    ) -> None:
        found = json_of(
            send(
                client,
                "PATCH",
                f"{settings.base}/Ticket/{ticket_key}",
                json={**self._login(settings), **data},
            )
        )
        if isinstance(found, dict) and "Error" in found:
            error = found["Error"]
            code = string(error.get("ErrorCode")) if isinstance(error, dict) else "an error"
            raise ToolRejected(f"PATCH /Ticket/{ticket_key}: Znuny answered {code}")

    def add_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, note: Note
    ) -> None:
        self._update(client, settings, ticket_key, Article=self._article(note))

    def has_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, marker: str
    ) -> bool:
        found = json_of(
            send(
                client,
                "GET",
                f"{settings.base}/Ticket/{ticket_key}",
                params={**self._login(settings), "AllArticles": 1},
            )
        )
        tickets = found.get("Ticket") or [] if isinstance(found, dict) else []
        articles = [
            a
            for t in tickets
            if isinstance(t, dict)
            for a in (t.get("Article") or [])
            if isinstance(a, dict)
        ]
        return any(marker in string(a.get("Body")) for a in articles)

    def set_group(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, group: str
    ) -> None:
        self._update(client, settings, ticket_key, Ticket={"Queue": group})

    def _article(self, note: Note) -> dict[str, Any]:
        return {
            "CommunicationChannel": "Internal",
            "IsVisibleForCustomer": 0,
            "SenderType": "system",
            "Subject": "Stellwerk",
            "Body": f"{note.text}\n\n{note.marker}",
            "MimeType": "text/plain",
            "Charset": "utf-8",
            "HistoryType": "AddNote",
            "HistoryComment": "Stellwerk suggestion",
        }

    def inline_answer(self, note: Note | None, group: str | None) -> dict[str, Any]:
        """The elements Znuny applies to the ticket from the invoker's response."""
        answer: dict[str, Any] = {}
        if note is not None:
            answer["OTRS_TicketArticleAdd"] = self._article(note)
        if group is not None:
            answer["OTRS_TicketQueueSet"] = group
        return answer

    def _login(self, settings: ToolSettings) -> dict[str, str]:
        login, _, password = (settings.token or "").partition(":")
        return {"UserLogin": login, "Password": password}

    def export(
        self,
        client: httpx.Client,
        settings: ToolSettings,
        *,
        since: datetime | None,
        cursor: dict[str, Any] | None,
    ) -> ExportPage:
        params: dict[str, Any] = {**self._login(settings), "StateType": "closed"}
        params.update({"SortBy": "Changed", "OrderBy": "Up", "Limit": 100_000})
        if since is not None:
            params["TicketChangeTimeNewerDate"] = f"{since:%Y-%m-%d %H:%M:%S}"
        found = json_of(send(client, "GET", f"{settings.base}/Ticket", params=params, retries=5))
        ids = [string(i) for i in (found.get("TicketID") or [])] if isinstance(found, dict) else []
        offset = int((cursor or {}).get("offset", 0))
        chunk = ids[offset : offset + PAGE_SIZE]
        tickets: list[InboundTicket] = []
        if chunk:
            got = json_of(
                send(
                    client,
                    "GET",
                    f"{settings.base}/Ticket/{','.join(chunk)}",
                    params={**self._login(settings), "AllArticles": 1},
                    retries=5,
                )
            )
            tickets = [znuny_ticket(t) for t in got.get("Ticket") or []]
        following = offset + len(chunk)
        return ExportPage(
            tickets, {"offset": following} if following < len(ids) else None, total=len(ids)
        )

    def check(self, client: httpx.Client, settings: ToolSettings) -> str:
        found = json_of(
            send(
                client,
                "GET",
                f"{settings.base}/Ticket",
                params={**self._login(settings), "Limit": 1},
            )
        )
        if isinstance(found, dict) and "Error" in found:
            raise NotSupported(f"Znuny answered {string(found['Error'].get('ErrorCode'))}")
        return "Znuny's TicketSearch answered"

    def ticket_url(self, settings: ToolSettings, ticket_key: str) -> str:
        root = settings.base.split("/nph-genericinterface.pl")[0]
        return f"{root}/index.pl?Action=AgentTicketZoom;TicketID={ticket_key}"
