"""Zammad: trigger webhooks (X-Hub-Signature, HMAC-SHA1), internal notes, ticket search.

Payload: https://admin-docs.zammad.org/en/latest/manage/webhook/payload.html
Articles: https://docs.zammad.org/en/latest/api/ticket/articles.html
Search: https://docs.zammad.org/en/latest/api/ticket/index.html (page, per_page, expand)
"""

from __future__ import annotations

from dataclasses import replace
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
    text_of_html,
)
from connectors.errors import NotSupported, PayloadInvalid, SignatureInvalid
from connectors.http import json_of, send
from connectors.signatures import check_prefixed

CLOSED_STATES = frozenset({"closed", "merged"})
PER_PAGE = 50


def _name(value: Any) -> str | None:
    """Zammad sends a group or state as an object with `name` (webhooks) or a name."""
    if isinstance(value, dict):
        value = value.get("name")
    return string(value) or None


def _ticket(ticket: dict[str, Any], articles: list[dict[str, Any]]) -> InboundTicket:
    if "id" not in ticket or "number" not in ticket:
        raise PayloadInvalid("A Zammad ticket needs `id` and `number`.")
    closed = (_name(ticket.get("state")) or "") in CLOSED_STATES
    bodies = [text_of_html(a.get("body")) for a in articles if a.get("body")]
    description = bodies[0] if bodies else ""
    resolution = bodies[-1] if closed and len(bodies) > 1 else ""
    updated = parse_time(ticket.get("updated_at"))
    return InboundTicket(
        key=string(ticket["id"]),
        number=string(ticket["number"]),
        title=string(ticket.get("title")),
        description=description,
        resolution=resolution,
        group=_name(ticket.get("group")),
        closed=closed,
        created_at=parse_time(ticket.get("created_at")),
        updated_at=updated,
        resolved_at=parse_time(ticket.get("close_at")) or (updated if closed else None),
    )


class ZammadConnector:
    tool = "zammad"
    answers_inline = False
    supports_set_group = True

    def verify(
        self, settings: ToolSettings, headers: Headers, query: Headers, body: bytes, *, now: float
    ) -> None:
        check_prefixed(headers.get("x-hub-signature"), settings.secret, body, "sha1")

    def parse(self, headers: Headers, query: Headers, body: bytes) -> Inbound:
        delivery = headers.get("x-zammad-delivery")
        if not delivery:
            raise SignatureInvalid("A Zammad webhook carries X-Zammad-Delivery.")
        data = json_body(body)
        ticket = data.get("ticket")
        if not isinstance(ticket, dict):
            return Inbound(delivery, "no-ticket", None)
        article = data.get("article")
        if isinstance(article, dict) and MARKER_PREFIX in string(article.get("body")):
            # Stellwerk's own note fired the trigger: nothing new about the ticket.
            return Inbound(delivery, "own-note", None)
        articles = [article] if isinstance(article, dict) else []
        # A new ticket's first article is its description; on close, the last one (the
        # closing note) is its resolution.
        mapped = _ticket(ticket, articles)
        if mapped.closed and articles:
            mapped = replace(
                mapped, description="", resolution=text_of_html(articles[-1].get("body"))
            )
        return Inbound(delivery, headers.get("x-zammad-trigger", "trigger"), mapped)

    def _auth(self, settings: ToolSettings) -> dict[str, str]:
        return {"Authorization": f"Token token={settings.token or ''}"}

    def add_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, note: Note
    ) -> None:
        body = {
            "ticket_id": int(ticket_key),
            "subject": "Stellwerk",
            "body": f"{note.html}<br><small>{note.marker}</small>",
            "content_type": "text/html",
            "type": "note",
            "internal": True,
        }
        send(
            client,
            "POST",
            f"{settings.base}/api/v1/ticket_articles",
            json=body,
            headers=self._auth(settings),
        )

    def has_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, marker: str
    ) -> bool:
        response = send(
            client,
            "GET",
            f"{settings.base}/api/v1/ticket_articles/by_ticket/{int(ticket_key)}",
            headers=self._auth(settings),
        )
        articles = json_of(response)
        return isinstance(articles, list) and any(
            marker in string(a.get("body")) for a in articles if isinstance(a, dict)
        )

    def set_group(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, group: str
    ) -> None:
        send(
            client,
            "PUT",
            f"{settings.base}/api/v1/tickets/{int(ticket_key)}",
            json={"group": group},
            headers=self._auth(settings),
        )

    def inline_answer(self, note: Note | None, group: str | None) -> dict[str, Any]:
        raise NotSupported("Zammad takes write-backs through its REST API, not the answer.")

    def export(
        self,
        client: httpx.Client,
        settings: ToolSettings,
        *,
        since: datetime | None,
        cursor: dict[str, Any] | None,
    ) -> ExportPage:
        page = int((cursor or {}).get("page", 1))
        query = "state.name:closed"
        if since is not None:
            query += f" AND updated_at:>={since.date().isoformat()}"
        response = send(
            client,
            "GET",
            f"{settings.base}/api/v1/tickets/search",
            params={
                "query": query,
                "page": page,
                "per_page": PER_PAGE,
                "expand": "true",
                "sort_by": "updated_at",
                "order_by": "asc",
            },
            headers=self._auth(settings),
            retries=5,
        )
        found = json_of(response)
        if not isinstance(found, list):
            raise PayloadInvalid("Zammad's ticket search with expand=true answers a list.")
        tickets = []
        for ticket in found:
            articles = json_of(
                send(
                    client,
                    "GET",
                    f"{settings.base}/api/v1/ticket_articles/by_ticket/{int(ticket['id'])}",
                    headers=self._auth(settings),
                    retries=5,
                )
            )
            # Stellwerk's own notes are neither the description nor the resolution.
            own = [a for a in articles if MARKER_PREFIX not in string(a.get("body"))]
            tickets.append(_ticket(ticket, own))
        more = len(found) == PER_PAGE
        return ExportPage(tickets, {"page": page + 1} if more else None)

    def check(self, client: httpx.Client, settings: ToolSettings) -> str:
        me = json_of(
            send(client, "GET", f"{settings.base}/api/v1/users/me", headers=self._auth(settings))
        )
        return f"Zammad answered as {string(me.get('login')) or 'an unnamed user'}"

    def ticket_url(self, settings: ToolSettings, ticket_key: str) -> str:
        return f"{settings.base}/#ticket/zoom/{ticket_key}"
