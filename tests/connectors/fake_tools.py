"""Fake ticket tools on loopback: small ASGI apps speaking the REST endpoints Stellwerk
calls (write-backs, exports), run by uvicorn on a free port, recording every request.

Each endpoint follows the tool's documentation (see connectors/<tool>.py for the URLs);
`faults` makes a path answer given statuses first (429 with Retry-After: 0, 503, ...)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeTool:
    """State shared by a fake tool's endpoints and the test."""

    token: str = "tool-token"
    requests: list[Recorded] = field(default_factory=list)
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    closed: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[int]] = field(default_factory=dict)
    hold_seconds: float = 0.0  # a write is stored, then answered this much later
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def all_notes(self) -> list[dict[str, Any]]:
        return [note for notes in self.notes.values() for note in notes]


async def _record(tool: FakeTool, request: Request) -> Response | None:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    with tool.lock:
        tool.requests.append(
            Recorded(
                request.method,
                request.url.path,
                dict(request.query_params),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        for prefix, statuses in tool.faults.items():
            if request.url.path.startswith(prefix) and statuses:
                status = statuses.pop(0)
                return Response(status_code=status, headers={"Retry-After": "0"})
    return None


def _page(items: list[Any], start: int, size: int) -> list[Any]:
    return items[start : start + size]


def zammad_app(tool: FakeTool) -> Starlette:
    """https://docs.zammad.org/en/latest/api/ticket/articles.html and .../ticket/index.html"""

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Token token={tool.token}"

    async def articles(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        if not authorized(request):
            return JSONResponse({"error": "authentication failed"}, status_code=401)
        body = tool.requests[-1].body
        ticket = str(body["ticket_id"])
        with tool.lock:
            notes = tool.notes.setdefault(ticket, [])
            article = {"id": len(tool.all_notes()) + 1000, **body}
            notes.append(article)
        if tool.hold_seconds:
            await asyncio.sleep(tool.hold_seconds)
        return JSONResponse(article, status_code=201)

    async def by_ticket(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        ticket = request.path_params["ticket"]
        found = [a for t in tool.closed if str(t["id"]) == ticket for a in t.get("_articles", [])]
        return JSONResponse(found + tool.notes.get(ticket, []))

    async def ticket(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        if not authorized(request):
            return JSONResponse({"error": "authentication failed"}, status_code=401)
        key = request.path_params["ticket"]
        tool.groups[key] = tool.requests[-1].body["group"]
        return JSONResponse({"id": int(key), "group": tool.groups[key]})

    async def search(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        page, per_page = int(request.query_params["page"]), int(request.query_params["per_page"])
        found = _page(tool.closed, (page - 1) * per_page, per_page)
        return JSONResponse([{k: v for k, v in t.items() if k != "_articles"} for t in found])

    async def me(request: Request) -> Response:
        await _record(tool, request)
        if not authorized(request):
            return JSONResponse({"error": "authentication failed"}, status_code=401)
        return JSONResponse({"login": "stellwerk@example.com"})

    return Starlette(
        routes=[
            Route("/api/v1/ticket_articles", articles, methods=["POST"]),
            Route("/api/v1/ticket_articles/by_ticket/{ticket}", by_ticket, methods=["GET"]),
            Route("/api/v1/tickets/search", search, methods=["GET"]),
            Route("/api/v1/tickets/{ticket}", ticket, methods=["PUT"]),
            Route("/api/v1/users/me", me, methods=["GET"]),
        ]
    )


def jira_app(tool: FakeTool) -> Starlette:
    """servicedeskapi request comments and /rest/api/3/search/jql with nextPageToken."""

    async def comment(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        key = request.path_params["key"]
        if request.method == "GET":
            return JSONResponse({"values": tool.notes.get(key, []), "isLastPage": True})
        body = tool.requests[-1].body
        with tool.lock:
            tool.notes.setdefault(key, []).append(body)
        return JSONResponse({"id": "10001", **body}, status_code=201)

    async def search(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        size = int(request.query_params["maxResults"])
        start = int(request.query_params.get("nextPageToken", "0").removeprefix("tok-") or 0)
        found = _page(tool.closed, start, size)
        following = start + len(found)
        answer: dict[str, Any] = {"issues": found, "isLast": following >= len(tool.closed)}
        if following < len(tool.closed):
            answer["nextPageToken"] = f"tok-{following}"
        return JSONResponse(answer)

    async def myself(request: Request) -> Response:
        """GET /rest/api/3/myself: the user the token belongs to (Basic email:token)."""
        await _record(tool, request)
        expected = "Basic " + base64.b64encode(tool.token.encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"errorMessages": ["Unauthorized"]}, status_code=401)
        return JSONResponse({"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Stellwerk"})

    return Starlette(
        routes=[
            Route("/rest/api/3/myself", myself, methods=["GET"]),
            Route("/rest/servicedeskapi/request/{key}/comment", comment, methods=["GET", "POST"]),
            Route("/rest/api/3/search/jql", search, methods=["GET"]),
        ]
    )


def glpi_app(tool: FakeTool) -> Starlette:
    """apirest.php as glpi-project/glpi apirest.md documents it: initSession (user_token),
    killSession, ITILFollowup (add, sub items of a Ticket), ITILSolution sub items, and
    search/Ticket with criteria, sort, order and range. `tool.closed` holds its tickets
    (open ones too) as search rows keyed by search option id."""
    session = "glpi-session-1"

    def open_session(request: Request) -> bool:
        return request.headers.get("session-token") == session

    async def init(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        if request.headers.get("authorization") != f"user_token {tool.token}":
            return JSONResponse(["ERROR_LOGIN_PARAMETERS_MISSING", ""], status_code=400)
        return JSONResponse({"session_token": session})

    async def kill(request: Request) -> Response:
        await _record(tool, request)
        return JSONResponse({})

    async def followup(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        if not open_session(request):
            return JSONResponse(["ERROR_SESSION_TOKEN_INVALID", ""], status_code=401)
        data = tool.requests[-1].body["input"]
        with tool.lock:
            tool.notes.setdefault(str(data["items_id"]), []).append(data)
        return JSONResponse({"id": 5, "message": ""}, status_code=201)

    async def followups(request: Request) -> Response:
        await _record(tool, request)
        return JSONResponse(tool.notes.get(request.path_params["ticket"], []))

    async def solutions(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        ticket = request.path_params["ticket"]
        found = [t for t in tool.closed if str(t["2"]) == ticket]
        return JSONResponse(found[0].get("_solutions", []) if found else [])

    async def search(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        if not open_session(request):
            return JSONResponse(["ERROR_SESSION_TOKEN_INVALID", ""], status_code=401)
        query = request.query_params
        rows = [
            {k: v for k, v in t.items() if k != "_solutions"}
            for t in tool.closed
            if all(_glpi_matches(t, criterion) for criterion in _glpi_criteria(query))
        ]
        # `sort` and `order` (search option id, ASC/DESC); ties by id, as GLPI's SQL does.
        field_id = query.get("sort", "1")
        rows.sort(key=lambda r: (str(r.get(field_id, "")), int(r["2"])))
        if query.get("order", "ASC") == "DESC":
            rows.reverse()
        first, last = (int(part) for part in query.get("range", "0-50").split("-"))
        if first > len(rows):
            return JSONResponse(["ERROR_RANGE_EXCEED_TOTAL", ""], status_code=400)
        found = rows[first : last + 1]
        return JSONResponse(
            {"totalcount": len(rows), "count": len(found), "data": found},
            status_code=206 if len(found) < len(rows) else 200,
            headers={"Content-Range": f"{first}-{first + len(found)}/{len(rows)}"},
        )

    return Starlette(
        routes=[
            Route("/apirest.php/initSession", init, methods=["GET"]),
            Route("/apirest.php/killSession", kill, methods=["GET"]),
            Route("/apirest.php/ITILFollowup", followup, methods=["POST"]),
            Route("/apirest.php/Ticket/{ticket}/ITILFollowup", followups, methods=["GET"]),
            Route("/apirest.php/Ticket/{ticket}/ITILSolution", solutions, methods=["GET"]),
            Route("/apirest.php/search/Ticket", search, methods=["GET"]),
        ]
    )


def _glpi_criteria(query: Any) -> list[dict[str, str]]:
    """`criteria[n][field|searchtype|value]` of a search/Ticket query string."""
    found: dict[str, dict[str, str]] = {}
    for key, value in query.items():
        if key.startswith("criteria["):
            index, _, part = key[len("criteria[") :].partition("][")
            found.setdefault(index, {})[part.rstrip("]")] = value
    return [found[index] for index in sorted(found)]


def _glpi_matches(row: dict[str, Any], criterion: dict[str, str]) -> bool:
    """The search types Stellwerk sends: status `old` (solved or closed), `notold`, and
    `morethan` on a date (GLPI's 'YYYY-MM-DD HH:MM:SS' sorts as text)."""
    value = row.get(criterion["field"])
    wanted = criterion["value"]
    if criterion["searchtype"] == "equals" and criterion["field"] == "12":
        status = int(value or 0)
        return status in (5, 6) if wanted == "old" else status not in (5, 6)
    if criterion["searchtype"] == "morethan":
        return str(value or "") > wanted
    raise AssertionError(f"the fake GLPI does not search {criterion}")


def znuny_app(tool: FakeTool) -> Starlette:
    """GenericTicketConnectorREST: TicketSearch (GET /Ticket), TicketGet (GET /Ticket/{ids}),
    TicketUpdate (PATCH /Ticket/{id})."""

    def authorized(request: Request) -> bool:
        login, _, password = tool.token.partition(":")
        query = request.query_params
        return query.get("UserLogin") == login and query.get("Password") == password

    async def search(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        if not authorized(request):
            return JSONResponse({"Error": {"ErrorCode": "TicketSearch.AuthFail"}})
        return JSONResponse({"TicketID": [str(t["TicketID"]) for t in tool.closed]})

    async def get(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        wanted = request.path_params["ids"].split(",")
        found = [t for t in tool.closed if str(t["TicketID"]) in wanted]
        # An open ticket Stellwerk wrote to: TicketGet with AllArticles shows its notes.
        found += [
            {"TicketID": key, "Article": tool.notes[key]}
            for key in wanted
            if key in tool.notes and all(str(t["TicketID"]) != key for t in found)
        ]
        return JSONResponse({"Ticket": found})

    async def update(request: Request) -> Response:
        """TicketUpdate (PATCH /Ticket/:TicketID): an article and/or ticket fields; Znuny
        answers 200 with `Error` when it refuses."""
        if (fault := await _record(tool, request)) is not None:
            return fault
        body = tool.requests[-1].body
        login, _, password = tool.token.partition(":")
        if body.get("UserLogin") != login or body.get("Password") != password:
            return JSONResponse({"Error": {"ErrorCode": "TicketUpdate.AuthFail"}})
        key = request.path_params["ids"]
        with tool.lock:
            if "Article" in body:
                tool.notes.setdefault(key, []).append(body["Article"])
            if "Queue" in (body.get("Ticket") or {}):
                tool.groups[key] = body["Ticket"]["Queue"]
        return JSONResponse({"TicketID": key, "ArticleID": len(tool.all_notes())})

    return Starlette(
        routes=[
            Route("/Ticket", search, methods=["GET"]),
            Route("/Ticket/{ids}", get, methods=["GET"]),
            Route("/Ticket/{ids}", update, methods=["PATCH"]),
        ]
    )


def firm_app(tool: FakeTool) -> Starlette:
    """A contractor firm's endpoint: records what it is told."""

    async def notify(request: Request) -> Response:
        if (fault := await _record(tool, request)) is not None:
            return fault
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/stellwerk", notify, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(app: Starlette, port: int | None = None) -> Iterator[str]:
    """Run `app` on loopback in a thread; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port or free_port(),
        log_level="warning",
        lifespan="off",
        ws="none",
        http="h11",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "fake tool did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
