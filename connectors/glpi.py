"""GLPI 11: webhooks (X-GLPI-signature = HMAC-SHA256 of body + X-GLPI-timestamp, and the
challenge-response check), private follow-ups and the search export of apirest.php.

Webhook signing and CRA challenge: glpi-project/glpi src/Webhook.php (getSignature, raise,
validateCRAChallenge). REST: https://github.com/glpi-project/glpi/blob/main/apirest.md
(initSession with user_token, search/{itemtype} with range, ITILFollowup).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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


def _open_session(client: httpx.Client, settings: ToolSettings) -> dict[str, str]:
    """initSession with `Authorization: user_token ...` (and `App-Token`): the headers of
    every later call (`Session-Token`, `App-Token`)."""
    user_token, _, app_token = (settings.token or "").partition(":")
    headers = {"Authorization": f"user_token {user_token}"}
    if app_token:
        headers["App-Token"] = app_token
    session = json_of(
        send(client, "GET", f"{settings.base}/apirest.php/initSession", headers=headers, retries=3)
    )
    token = string(session.get("session_token")) if isinstance(session, dict) else ""
    if not token:
        raise PayloadInvalid("GLPI's initSession answered no session_token.")
    return {"Session-Token": token, **({"App-Token": app_token} if app_token else {})}


@contextlib.contextmanager
def glpi_session(client: httpx.Client, settings: ToolSettings) -> Iterator[dict[str, str]]:
    """A session for the calls inside the block, ended by killSession (one left open by a
    crash expires on its own)."""
    headers = _open_session(client, settings)
    try:
        yield headers
    finally:
        with contextlib.suppress(ConnectorError):
            send(client, "GET", f"{settings.base}/apirest.php/killSession", headers=headers)


def ticket_of_row(row: dict[str, Any], solution: str = "") -> InboundTicket:
    """A `search/Ticket` row (columns by search option, see SEARCH_FIELDS) as a ticket."""
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
    return glpi_ticket(item, solution)


def rows_of(found: Any) -> list[dict[str, Any]]:
    """The rows of a search answer: a list, or keyed by id with `withindexes`."""
    data = found.get("data") if isinstance(found, dict) else None
    if isinstance(data, dict):
        data = list(data.values())
    return [row for row in data or [] if isinstance(row, dict) and "2" in row]


def search_tickets(
    client: httpx.Client, settings: ToolSettings, headers: dict[str, str], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """`search/Ticket` with `params` (criteria, sort, range) showing SEARCH_FIELDS: its rows
    and `totalcount`."""
    shown = {f"forcedisplay[{n}]": number for n, number in enumerate(SEARCH_FIELDS)}
    found = json_of(
        send(
            client,
            "GET",
            f"{settings.base}/apirest.php/search/Ticket",
            params={**params, **shown},
            headers=headers,
            retries=5,
        )
    )
    total = found.get("totalcount", 0) if isinstance(found, dict) else 0
    return rows_of(found), int(total or 0)


def last_solution(
    client: httpx.Client, settings: ToolSettings, headers: dict[str, str], ticket_id: int
) -> str:
    """The content of a ticket's newest ITILSolution (sub items of the Ticket), or ''."""
    solutions = json_of(
        send(
            client,
            "GET",
            f"{settings.base}/apirest.php/Ticket/{ticket_id}/ITILSolution",
            headers=headers,
            retries=5,
        )
    )
    if not isinstance(solutions, list) or not solutions:
        return ""
    last = solutions[-1]
    return string(last.get("content")) if isinstance(last, dict) else ""


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

    def add_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, note: Note
    ) -> None:
        with glpi_session(client, settings) as headers:
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

    def has_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, marker: str
    ) -> bool:
        with glpi_session(client, settings) as headers:
            found = json_of(
                send(
                    client,
                    "GET",
                    f"{settings.base}/apirest.php/Ticket/{int(ticket_key)}/ITILFollowup",
                    headers=headers,
                )
            )
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
        with glpi_session(client, settings) as headers:
            rows, total = search_tickets(client, settings, headers, params)
            tickets = [
                ticket_of_row(row, last_solution(client, settings, headers, int(row["2"])))
                for row in rows
            ]
        following = start + len(rows)
        more = bool(rows) and following < total
        return ExportPage(tickets, {"start": following} if more else None, total=total)

    def check(self, client: httpx.Client, settings: ToolSettings) -> str:
        with glpi_session(client, settings):
            return "GLPI opened a session"

    def ticket_url(self, settings: ToolSettings, ticket_key: str) -> str:
        return f"{settings.base}/front/ticket.form.php?id={ticket_key}"
