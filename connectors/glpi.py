"""GLPI 11: webhooks (X-GLPI-signature = HMAC-SHA256 of body + X-GLPI-timestamp, and the
challenge-response check), private follow-ups and the search export of apirest.php.

Webhook signing and CRA challenge: glpi-project/glpi src/Webhook.php (getSignature, raise,
validateCRAChallenge). REST: https://github.com/glpi-project/glpi/blob/main/apirest.md
(initSession with user_token, search/{itemtype} with range, ITILFollowup).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import httpx

from connectors.base import (
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
from connectors.errors import ConnectorError, NotSupported, PayloadInvalid, SignatureInvalid
from connectors.http import json_of, send
from connectors.signatures import check_equal, hex_hmac, require_secret

# GLPI ticket statuses: 1 new, 2 assigned, 3 planned, 4 waiting, 5 solved, 6 closed.
CLOSED_STATUSES = frozenset({5, 6})
MAX_AGE_SECONDS = 300
PAGE_SIZE = 50
# Search option ids of a Ticket: 1 title, 2 id, 8 assigned group, 12 status, 15 opened,
# 17 solved, 19 last update, 21 description.
SEARCH_FIELDS = ("1", "2", "8", "12", "15", "17", "19", "21")


def _status(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("id")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _group(item: dict[str, Any]) -> str | None:
    """The assigned group from the high-level API's `team` (type Group, role assigned)."""
    for member in item.get("team") or []:
        if not isinstance(member, dict):
            continue
        if string(member.get("type")).lower() == "group" and string(member.get("role")).lower() in (
            "assigned",
            "2",
        ):
            return string(member.get("name")) or None
    return string(item.get("group")) or None


def glpi_ticket(item: dict[str, Any], solution: str = "") -> InboundTicket:
    if "id" not in item:
        raise PayloadInvalid("A GLPI ticket needs `id`.")
    status = _status(item.get("status"))
    closed = status in CLOSED_STATUSES or bool(solution)
    return InboundTicket(
        key=string(item["id"]),
        number=string(item["id"]),
        title=string(item.get("name")),
        description=text_of_html(item.get("content")),
        resolution=text_of_html(solution),
        group=_group(item),
        closed=closed,
        created_at=parse_time(item.get("date_creation") or item.get("date")),
        updated_at=parse_time(item.get("date_mod")),
        resolved_at=parse_time(item.get("date_solve") or item.get("solvedate")),
    )


def challenge_answer(secret: str, crc_token: str) -> str:
    """GLPI's CRA check: it sends `crc_token` and expects its HMAC-SHA256 back."""
    return hex_hmac(secret, crc_token.encode("utf-8"))


class GlpiConnector:
    tool = "glpi"
    answers_inline = False
    supports_set_group = False

    def verify(
        self, settings: ToolSettings, headers: Headers, query: Headers, body: bytes, *, now: float
    ) -> None:
        secret = require_secret(settings.secret)
        stamp = headers.get("x-glpi-timestamp", "")
        if not stamp.isdigit():
            raise SignatureInvalid("A GLPI webhook carries X-GLPI-timestamp.")
        expected = hex_hmac(secret, body + stamp.encode())
        check_equal(headers.get("x-glpi-signature"), expected, "signature")
        if abs(now - int(stamp)) > MAX_AGE_SECONDS:
            raise SignatureInvalid("The GLPI webhook's timestamp is stale.")

    def parse(self, headers: Headers, query: Headers, body: bytes) -> Inbound:
        data = json_body(body)
        event = string(data.get("event")) or "unknown"
        item = data.get("item")
        parent = data.get("parent_item")
        # GLPI queues a webhook with its signature and retries it unchanged: the signature
        # identifies the delivery.
        delivery = headers.get("x-glpi-signature", "")
        if not isinstance(item, dict):
            return Inbound(delivery, event, None)
        if isinstance(parent, dict) and "status" in parent and "name" not in item:
            # An ITILSolution of a ticket: the ticket is solved with this text.
            return Inbound(delivery, event, glpi_ticket(parent, string(item.get("content"))))
        if "status" not in item or "name" not in item:
            return Inbound(delivery, event, None)
        return Inbound(delivery, event, glpi_ticket(item))

    def _session(self, client: httpx.Client, settings: ToolSettings) -> dict[str, str]:
        user_token, _, app_token = (settings.token or "").partition(":")
        headers = {"Authorization": f"user_token {user_token}"}
        if app_token:
            headers["App-Token"] = app_token
        session = json_of(
            send(client, "GET", f"{settings.base}/apirest.php/initSession", headers=headers)
        )
        token = string(session.get("session_token")) if isinstance(session, dict) else ""
        if not token:
            raise PayloadInvalid("GLPI's initSession answered no session_token.")
        headers = {"Session-Token": token, **({"App-Token": app_token} if app_token else {})}
        return headers

    def _end(self, client: httpx.Client, settings: ToolSettings, headers: dict[str, str]) -> None:
        # A session left open expires on its own.
        with contextlib.suppress(ConnectorError):
            send(client, "GET", f"{settings.base}/apirest.php/killSession", headers=headers)

    def add_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, note: Note
    ) -> None:
        headers = self._session(client, settings)
        try:
            body = {
                "input": {
                    "itemtype": "Ticket",
                    "items_id": int(ticket_key),
                    "content": f"{note.html}<br>{note.marker}",
                    "is_private": 1,
                }
            }
            send(
                client,
                "POST",
                f"{settings.base}/apirest.php/ITILFollowup",
                json=body,
                headers=headers,
            )
        finally:
            self._end(client, settings, headers)

    def has_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, marker: str
    ) -> bool:
        headers = self._session(client, settings)
        try:
            found = json_of(
                send(
                    client,
                    "GET",
                    f"{settings.base}/apirest.php/Ticket/{int(ticket_key)}/ITILFollowup",
                    headers=headers,
                )
            )
        finally:
            self._end(client, settings, headers)
        return isinstance(found, list) and any(
            marker in string(f.get("content")) for f in found if isinstance(f, dict)
        )

    def set_group(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, group: str
    ) -> None:
        raise NotSupported("Setting a GLPI group is not supported yet.")

    def inline_answer(self, note: Note | None, group: str | None) -> dict[str, Any]:
        raise NotSupported("GLPI takes follow-ups through its REST API, not the answer.")

    def export(
        self,
        client: httpx.Client,
        settings: ToolSettings,
        *,
        since: datetime | None,
        cursor: dict[str, Any] | None,
    ) -> ExportPage:
        start = int((cursor or {}).get("start", 0))
        params: dict[str, Any] = {
            "criteria[0][field]": "12",
            "criteria[0][searchtype]": "equals",
            "criteria[0][value]": "old",  # solved and closed
            "sort": "19",
            "order": "ASC",
            "range": f"{start}-{start + PAGE_SIZE - 1}",
        }
        if since is not None:
            params.update(
                {
                    "criteria[1][link]": "AND",
                    "criteria[1][field]": "19",
                    "criteria[1][searchtype]": "morethan",
                    "criteria[1][value]": f"{since:%Y-%m-%d %H:%M:%S}",
                }
            )
        for position, number in enumerate(SEARCH_FIELDS):
            params[f"forcedisplay[{position}]"] = number
        headers = self._session(client, settings)
        try:
            found = json_of(
                send(
                    client,
                    "GET",
                    f"{settings.base}/apirest.php/search/Ticket",
                    params=params,
                    headers=headers,
                    retries=5,
                )
            )
            rows = found.get("data") or [] if isinstance(found, dict) else []
            tickets = []
            for row in rows:
                solutions = json_of(
                    send(
                        client,
                        "GET",
                        f"{settings.base}/apirest.php/Ticket/{int(row['2'])}/ITILSolution",
                        headers=headers,
                        retries=5,
                    )
                )
                solution = string(solutions[-1].get("content")) if solutions else ""
                item = {
                    "id": row["2"],
                    "name": row.get("1"),
                    "content": row.get("21"),
                    "status": row.get("12"),
                    "group": row.get("8"),
                    "date_creation": row.get("15"),
                    "date_solve": row.get("17"),
                    "date_mod": row.get("19"),
                }
                tickets.append(glpi_ticket(item, solution))
        finally:
            self._end(client, settings, headers)
        total = int(found.get("totalcount", 0)) if isinstance(found, dict) else 0
        following = start + len(rows)
        more = bool(rows) and following < total
        return ExportPage(tickets, {"start": following} if more else None, total=total)

    def check(self, client: httpx.Client, settings: ToolSettings) -> str:
        headers = self._session(client, settings)
        self._end(client, settings, headers)
        return "GLPI opened a session"

    def ticket_url(self, settings: ToolSettings, ticket_key: str) -> str:
        return f"{settings.base}/front/ticket.form.php?id={ticket_key}"
