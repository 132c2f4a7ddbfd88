"""History import per tool against its fake server: paging (Zammad page/per_page, Jira
nextPageToken, Znuny TicketSearch + TicketGet, GLPI range), retries on 429 and 5xx, a
resumable cursor, and the summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.services.connector_import import ImportSummary, import_history
from app.state import app_state
from connectors.errors import ToolUnavailable
from db.models import ConnectorConfig, Ticket, ToolTicket
from tests.auth_helpers import factory_of
from tests.connectors.fake_tools import FakeTool, glpi_app, jira_app, serve, zammad_app, znuny_app
from tests.connectors.helpers import add

COUNT = 60  # two pages of 50


def _zammad(n: int) -> dict[str, Any]:
    # https://docs.zammad.org/en/latest/api/ticket/index.html: search with expand=true
    # answers tickets with group and state by name.
    return {
        "id": 500 + n,
        "number": f"20{n:03d}",
        "title": f"Drucker {n} druckt nicht",
        "group": "Arbeitsplatz",
        "state": "closed",
        "created_at": "2026-10-01T08:00:00Z",
        "updated_at": f"2026-10-01T09:{n % 60:02d}:00Z",
        "close_at": "2026-10-01T10:00:00Z",
        "_articles": [
            {"id": 1, "body": f"Drucker {n} zeigt Papierstau.", "internal": False},
            {"id": 2, "body": "Einzug gereinigt.", "internal": True},
        ],
    }


def _jira(n: int) -> dict[str, Any]:
    return {
        "key": f"SD-{n}",
        "fields": {
            "summary": f"VPN {n} trennt",
            "description": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Bricht ab."}]}
            ]},
            "status": {"name": "Closed", "statusCategory": {"key": "done"}},
            "resolution": {"name": "Done"},
            "resolutiondate": "2026-10-02T10:00:00.000+0000",
            "created": "2026-10-02T08:00:00.000+0000",
            "updated": "2026-10-02T10:00:00.000+0000",
            "components": [{"name": "Network"}],
            "comment": {"comments": [{"body": "Client aktualisiert."}]},
        },
    }  # fmt: skip


def _znuny(n: int) -> dict[str, Any]:
    return {
        "TicketID": str(900 + n),
        "TicketNumber": f"202610020000{n:02d}",
        "Title": f"SAP {n} Verbindungsfehler",
        "Queue": "ERP",
        "State": "closed successful",
        "StateType": "closed",
        "Created": "2026-10-02 08:00:00",
        "Changed": "2026-10-02 10:00:00",
        "Article": [{"Body": "Fehler beim Logon."}, {"Body": "Logon-Eintrag korrigiert."}],
    }


def _glpi(n: int) -> dict[str, Any]:
    # apirest.php search/Ticket rows are keyed by search option id (2 id, 1 title, 12 status).
    return {
        "2": 700 + n,
        "1": f"Laufwerk C {n} voll",
        "21": "<p>Kein Platz mehr.</p>",
        "12": 6,
        "8": "Arbeitsplatz",
        "15": "2026-10-03 08:00:00",
        "17": "2026-10-03 10:00:00",
        "19": "2026-10-03 10:00:00",
        "_solutions": [{"content": "<p>Temp-Dateien gelöscht.</p>"}],
    }


TOOLS: dict[str, tuple[Callable[[FakeTool], Any], Callable[[int], dict[str, Any]], str, str]] = {
    "zammad": (zammad_app, _zammad, "/api/v1/tickets/search", "tool-token"),
    "jira": (jira_app, _jira, "/rest/api/3/search/jql", "bot@example.com:token"),
    "znuny": (znuny_app, _znuny, "/Ticket", "stellwerk:pass"),
    "glpi": (glpi_app, _glpi, "/apirest.php/search/Ticket", "tool-token"),
}
# The first ticket's number and its link in the tool (Zammad and Znuny link by id).
LINKS = {
    "zammad": ("20000", "/#ticket/zoom/500"),
    "jira": ("SD-0", "/browse/SD-0"),
    "znuny": ("20261002000000", "/index.pl?Action=AgentTicketZoom;TicketID=900"),
    "glpi": ("700", "/front/ticket.form.php?id=700"),
}
TEAM = {"zammad": "workplace", "jira": "network", "znuny": "erp", "glpi": "workplace"}
GROUP = {"zammad": "Arbeitsplatz", "jira": "Network", "znuny": "ERP", "glpi": "Arbeitsplatz"}


def _import(client: TestClient, name: str, **options: Any) -> ImportSummary:
    embedder = app_state(client.app).ready().live_index.embedder
    with httpx.Client(timeout=5) as http:
        return import_history(
            factory_of(client), embedder, http, name=name, since=None, max_words=200, **options
        )


@pytest.mark.parametrize("tool_name", sorted(TOOLS))
def test_import_pages_through_the_export_with_retries(
    hook_client: TestClient, tool_name: str
) -> None:
    app, make, search_path, token = TOOLS[tool_name]
    tool = FakeTool(token=token, closed=[make(n) for n in range(COUNT)])
    tool.faults[search_path] = [429, 503]  # retried with backoff, then answered
    with serve(app(tool)) as url:
        add(
            hook_client,
            tool_name,
            "tool",
            url=url,
            token=token,
            group_map={GROUP[tool_name]: TEAM[tool_name]},
        )
        summary = _import(hook_client, "tool")
    assert (summary.tickets, summary.added, summary.resumed) == (COUNT, COUNT, False)
    searches = [r for r in tool.requests if r.path == search_path and r.method == "GET"]
    pages = {"zammad": 2, "jira": 2, "znuny": 2, "glpi": 2}[tool_name]
    assert summary.pages == pages
    # Znuny searches once per page (the ids), the others once per page too: + 2 faults.
    assert len(searches) == pages + 2
    with factory_of(hook_client)() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == COUNT
        teams = set(session.scalars(select(Ticket.team)))
        assert teams == {TEAM[tool_name]}
        resolutions = set(session.scalars(select(Ticket.resolution)))
        assert len(resolutions) == 1 and "" not in resolutions
        assert session.scalar(select(func.count()).select_from(ToolTicket)) == COUNT
        cursor = session.scalars(select(ConnectorConfig.import_cursor)).one()
        assert cursor is None  # finished: the next import starts afresh
    number, link = LINKS[tool_name]
    stored = hook_client.get(f"/api/v1/tickets/tool/{number}").json()
    assert stored["tool_link"] == f"{url}{link}"


def test_jira_follows_next_page_token(hook_client: TestClient) -> None:
    app, make, path, token = TOOLS["jira"]
    tool = FakeTool(closed=[make(n) for n in range(COUNT)])
    with serve(app(tool)) as url:
        add(hook_client, "jira", "jsm", url=url, token=token)
        _import(hook_client, "jsm")
    first, second = tool.calls("GET", path)
    assert "nextPageToken" not in first.query and second.query["nextPageToken"] == "tok-50"
    assert first.query["jql"] == "statusCategory = Done ORDER BY updated ASC"


def test_an_interrupted_import_resumes_at_its_cursor(hook_client: TestClient) -> None:
    app, make, path, token = TOOLS["zammad"]
    tool = FakeTool(token=token, closed=[make(n) for n in range(COUNT)])

    def break_after_the_first_page(count: int, total: int | None) -> None:
        tool.faults[path] = [503] * 6  # more than the retries

    with serve(app(tool)) as url:
        add(hook_client, "zammad", "zammad", url=url, token=token)
        with pytest.raises(ToolUnavailable, match="answered 503"):
            _import(hook_client, "zammad", progress=break_after_the_first_page)
        with factory_of(hook_client)() as session:
            assert session.scalar(select(func.count()).select_from(Ticket)) == 50
            cursor = session.scalars(select(ConnectorConfig.import_cursor)).one()
            assert cursor == {"since": None, "page": {"page": 2}}
        summary = _import(hook_client, "zammad")
    assert (summary.resumed, summary.pages, summary.tickets) == (True, 1, 10)
    pages = [r.query["page"] for r in tool.calls("GET", path)]
    assert pages.count("1") == 1  # page 1 was not fetched again
    with factory_of(hook_client)() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == COUNT


def test_a_second_import_updates_nothing_twice(hook_client: TestClient) -> None:
    app, make, _, token = TOOLS["glpi"]
    tool = FakeTool(token=token, closed=[make(n) for n in range(3)])
    with serve(app(tool)) as url:
        add(hook_client, "glpi", "glpi", url=url, token=token)
        _import(hook_client, "glpi")
        again = _import(hook_client, "glpi")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
