"""GLPI 10 has no webhooks: the tickets changed since a cursor, read over apirest.php.

`search/Ticket` with a criterion on the last update (search option 19, `morethan`), sorted
by it, a page at a time with `range`; a solved or closed ticket comes with its newest
ITILSolution. Documented in https://github.com/glpi-project/glpi/blob/main/apirest.md
(initSession, search items, get sub items, killSession).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from connectors.base import InboundTicket, ToolSettings, parse_time, string
from connectors.glpi import last_solution, search_tickets, ticket_of_row

GLPI_TIME = "%Y-%m-%d %H:%M:%S"  # GLPI's own dates: its server's local time, to the second
PAGE_SIZE = 50
# `date_mod` is set when GLPI begins a request and seen once it commits: a ticket saved by a
# slow request can appear with a time before the cursor. Each round asks again from this far
# back; what was taken already is a duplicate by its delivery id (ticket and date_mod).
OVERLAP = timedelta(seconds=60)


@dataclass(frozen=True)
class ChangedPage:
    tickets: list[InboundTicket]
    stamps: list[str]  # each ticket's date_mod as GLPI wrote it (its delivery id)
    full: bool  # a whole page: more may follow


def threshold(cursor: str) -> str:
    """Where a round's search starts: the cursor less the overlap, in GLPI's format."""
    moment = parse_time(cursor)
    if moment is None:
        return cursor
    return f"{moment.replace(tzinfo=None) - OVERLAP:{GLPI_TIME}}"


def newest_change(
    client: httpx.Client, settings: ToolSettings, headers: dict[str, str]
) -> str | None:
    """The newest date_mod of any ticket, in GLPI's clock (where a first round starts)."""
    rows, _ = search_tickets(
        client, settings, headers, {"sort": "19", "order": "DESC", "range": "0-0"}
    )
    return string(rows[0].get("19")) or None if rows else None


def changed_tickets(
    client: httpx.Client,
    settings: ToolSettings,
    headers: dict[str, str],
    *,
    after: str,
    start: int,
) -> ChangedPage:
    """Tickets whose date_mod is after `after`, oldest change first, from row `start`."""
    params = {
        "criteria[0][field]": "19",
        "criteria[0][searchtype]": "morethan",
        "criteria[0][value]": after,
        "sort": "19",
        "order": "ASC",
        "range": f"{start}-{start + PAGE_SIZE - 1}",
    }
    rows, _ = search_tickets(client, settings, headers, params)
    tickets: list[InboundTicket] = []
    for row in rows:
        ticket = ticket_of_row(row)
        if ticket.closed:
            solution = last_solution(client, settings, headers, int(row["2"]))
            ticket = ticket_of_row(row, solution)
        tickets.append(ticket)
    return ChangedPage(tickets, [string(row.get("19")) for row in rows], len(rows) == PAGE_SIZE)


def later(first: str | None, second: str) -> str:
    """The later of two GLPI times (their format sorts as text)."""
    return second if first is None or second > first else first
