"""GLPI 10 has no webhooks: the poller over apirest.php against a fake GLPI on loopback
that speaks the documented endpoints (initSession with a user token and App-Token,
search/Ticket with criteria, sort and range, ITILSolution sub items, killSession). Each
changed ticket goes the GLPI 11 webhook's way: a suggestion and a private follow-up for an
open one, a stored resolved ticket for a solved one; the cursor survives between rounds."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.auth import CLI_PRINCIPAL
from app.cli import cli
from app.services.connector_poll import PollSummary, poll_once, set_poll_interval
from app.services.delivery_worker import DeliveryWorker
from app.services.outbox import Backoff
from app.services.poll_worker import PollWorker
from app.state import app_state
from db.models import ConnectorPoll, OutboxItem, ToolTicket
from tests.auth_helpers import factory_of
from tests.connectors.fake_tools import FakeTool, glpi_app, serve
from tests.connectors.helpers import FIXTURES, add
from tests.fakes import HashingEmbedder

USER_TOKEN, APP_TOKEN = "glpi-user-token", "glpi-app-token"


def changed_rows() -> list[dict[str, Any]]:
    document = json.loads((FIXTURES / "glpi10_search_changed.json").read_text("utf-8"))
    assert document["source"]
    rows: list[dict[str, Any]] = copy.deepcopy(document["payload"]["data"])
    return rows


def _old(n: int) -> dict[str, Any]:
    """Tickets closed before polling began: at 08:00 and at 10:00, GLPI's newest change."""
    stamp = f"2026-11-01 {8 + 2 * n:02d}:00:00"
    return {"2": 100 + n, "1": f"Alt {n}", "21": "<p>alt</p>", "12": 6, "19": stamp}


@pytest.fixture
def glpi() -> Iterator[tuple[FakeTool, str]]:
    tool = FakeTool(token=USER_TOKEN, closed=[_old(0), _old(1)])
    with serve(glpi_app(tool)) as url:
        yield tool, url


def _poll(client: TestClient, name: str = "glpi", **options: Any) -> PollSummary:
    runtime = app_state(client.app).ready()
    settings = app_state(client.app).settings
    with httpx.Client(timeout=5) as http:
        return poll_once(
            factory_of(client), runtime.live_index, runtime.router, settings, http, name=name,
            **options,
        )  # fmt: skip


def _add(client: TestClient, url: str) -> None:
    add(
        client, "glpi", "glpi", url=url, token=f"{USER_TOKEN}:{APP_TOKEN}", secret=None,
        group_map={"Arbeitsplatz": "workplace", "Netzwerk": "network"},
    )  # fmt: skip


def _cursor(client: TestClient) -> str | None:
    with factory_of(client)() as session:
        return session.scalars(select(ConnectorPoll.cursor)).one()


def test_a_first_round_starts_at_glpis_newest_change_and_takes_nothing(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    summary = _poll(hook_client)
    assert (summary.started, summary.changed, summary.cursor) == (True, 0, "2026-11-01 10:00:00")
    (init,) = tool.calls("GET", "/apirest.php/initSession")
    assert init.headers["authorization"] == f"user_token {USER_TOKEN}"
    assert init.headers["app-token"] == APP_TOKEN
    (search,) = tool.calls("GET", "/apirest.php/search/Ticket")
    assert (search.query["sort"], search.query["order"], search.query["range"]) == (
        "19",
        "DESC",
        "0-0",
    )
    assert search.headers["session-token"] == "glpi-session-1"
    assert search.headers["app-token"] == APP_TOKEN
    assert len(tool.calls("GET", "/apirest.php/killSession")) == 1  # the session is ended
    assert _cursor(hook_client) == "2026-11-01 10:00:00"
    with factory_of(hook_client)() as session:
        assert session.scalars(select(ToolTicket)).all() == []  # the history is import's


def test_changed_tickets_go_the_webhooks_way(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    _poll(hook_client)
    tool.closed.extend(changed_rows())
    summary = _poll(hook_client)
    # The newest change before the start is within the overlap: taken too (stored, closed).
    assert dict(summary.outcomes) == {"suggested": 1, "stored": 2}
    assert (summary.queued, summary.cursor) == (1, "2026-12-01 09:10:00")
    search = tool.calls("GET", "/apirest.php/search/Ticket")[-1]
    # Asked from the cursor less the overlap, oldest change first, a page at a time.
    assert {k: v for k, v in search.query.items() if k.startswith("criteria")} == {
        "criteria[0][field]": "19",
        "criteria[0][searchtype]": "morethan",
        "criteria[0][value]": "2026-11-01 09:59:00",
    }
    assert (search.query["sort"], search.query["order"], search.query["range"]) == (
        "19",
        "ASC",
        "0-49",
    )
    # Only solved and closed tickets' solutions are fetched.
    assert [c.path for c in tool.calls("GET", "/apirest.php/Ticket/")] == [
        "/apirest.php/Ticket/101/ITILSolution",
        "/apirest.php/Ticket/32/ITILSolution",
    ]
    stored = hook_client.get("/api/v1/tickets/glpi/32").json()
    assert (stored["resolution"], stored["team"]) == (
        "Netzwerkkabel am Drucker getauscht.",
        "workplace",
    )
    with factory_of(hook_client)() as session:
        (note,) = session.scalars(select(OutboxItem)).all()
    assert (note.kind, note.payload["ticket_key"]) == ("note", "31")
    assert _cursor(hook_client) == "2026-12-01 09:10:00"
    # The queued follow-up reaches GLPI private, through its own session.
    worker = DeliveryWorker(
        factory_of(hook_client), backoff=Backoff(60, 600, 3), poll_seconds=1, timeout_seconds=5
    )
    with httpx.Client(timeout=5) as http:
        assert worker.run_once(http) == 1
    (followup,) = tool.calls("POST", "/apirest.php/ITILFollowup")
    assert (followup.body["input"]["items_id"], followup.body["input"]["is_private"]) == (31, 1)
    assert "Stellwerk suggestion" in followup.body["input"]["content"]


def test_a_second_round_takes_nothing_twice(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    _poll(hook_client)
    tool.closed.extend(changed_rows())
    _poll(hook_client)
    again = _poll(hook_client)
    # From the cursor (09:10) less the overlap, 32 comes again: a delivery already taken.
    assert dict(again.outcomes) == {"duplicate": 1}
    assert again.queued == 0
    with factory_of(hook_client)() as session:
        assert len(session.scalars(select(OutboxItem)).all()) == 1


def test_an_older_change_never_overwrites_a_newer_one(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    _poll(hook_client)
    open_row, solved_row = changed_rows()
    tool.closed.append(solved_row)
    assert dict(_poll(hook_client).outcomes) == {"stored": 2}  # and 101, in the overlap
    # The same ticket seen again as it was before it was solved (an older date_mod).
    tool.closed.remove(solved_row)
    tool.closed.append({**open_row, "2": 32, "19": "2026-12-01 09:05:00"})
    late = _poll(hook_client, since=datetime(2026, 12, 1, 9, 0))
    assert dict(late.outcomes) == {"stale": 1}
    stored = hook_client.get("/api/v1/tickets/glpi/32").json()
    assert stored["resolution"] == "Netzwerkkabel am Drucker getauscht."


def test_many_changes_are_read_page_by_page_with_retries(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    _poll(hook_client)
    tool.closed.extend(
        {"2": 1000 + n, "1": f"Neu {n}", "21": "x", "12": 1, "19": f"2026-12-01 10:{n:02d}:00"}
        for n in range(60)
    )
    tool.faults["/apirest.php/search/Ticket"] = [503, 429]  # retried with backoff
    tool.faults["/apirest.php/initSession"] = [503]
    summary = _poll(hook_client)
    # Page 1: 101 (in the overlap) and 10:00-10:48; page 2 from 10:48 less the overlap:
    # 10:48 again (taken already) to 10:59.
    assert dict(summary.outcomes) == {"stored": 1, "suggested": 60, "duplicate": 1}
    assert summary.pages == 2
    ranges = [c.query["range"] for c in tool.calls("GET", "/apirest.php/search/Ticket")]
    assert ranges[-2:] == ["0-49", "0-49"]  # the second page asked from the newer cursor
    values = [c.query.get("criteria[0][value]") for c in tool.calls("GET", "/apirest.php/search/")]
    assert values[-1] == "2026-12-01 10:47:00"
    assert _cursor(hook_client) == "2026-12-01 10:59:00"
    assert len(tool.calls("GET", "/apirest.php/killSession")) == 2


def test_a_page_of_changes_in_the_same_second_moves_on_by_range(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    _poll(hook_client)
    tool.closed.extend(
        {"2": 2000 + n, "1": f"Massen {n}", "21": "x", "12": 1, "19": "2026-12-01 11:00:00"}
        for n in range(55)
    )
    summary = _poll(hook_client)
    assert summary.outcomes["suggested"] == 55
    ranges = [c.query["range"] for c in tool.calls("GET", "/apirest.php/search/Ticket")]
    assert ranges[-2:] == ["0-49", "50-99"]


def test_an_unreachable_glpi_is_recorded_and_the_lease_released(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    tool.faults["/apirest.php/initSession"] = [400]
    from connectors.errors import ToolRejected

    with pytest.raises(ToolRejected, match="initSession: the tool answered 400"):
        _poll(hook_client)
    with factory_of(hook_client)() as session:
        poll = session.scalars(select(ConnectorPoll)).one()
        assert (poll.leased_until, poll.cursor) == (None, None)
        assert "answered 400" in (poll.last_error or "")
    assert _poll(hook_client).started  # the next round starts normally


def test_another_replica_polling_holds_the_connector(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    _poll(hook_client)
    from datetime import timedelta

    from db.models import utcnow

    with factory_of(hook_client)() as session, session.begin():
        session.scalars(select(ConnectorPoll)).one().leased_until = utcnow() + timedelta(minutes=5)
    searches = len(tool.calls("GET", "/apirest.php/search/Ticket"))
    assert _poll(hook_client).busy
    assert len(tool.calls("GET", "/apirest.php/search/Ticket")) == searches


def test_the_service_polls_connectors_with_an_interval_when_due(
    hook_client: TestClient, glpi: tuple[FakeTool, str]
) -> None:
    tool, url = glpi
    _add(hook_client, url)
    add(hook_client, "glpi", "glpi-manual", url=url, token=USER_TOKEN)  # no interval: CLI only
    factory = factory_of(hook_client)
    with factory() as session, session.begin():
        set_poll_interval(session, principal=CLI_PRINCIPAL, name="glpi", seconds=3600)
    runtime = app_state(hook_client.app).ready()
    woken: list[int] = []
    worker = PollWorker(
        factory, runtime.live_index, runtime.router, app_state(hook_client.app).settings,
        on_queued=lambda: woken.append(1),
    )  # fmt: skip
    with httpx.Client(timeout=5) as http:
        assert worker.run_once(http) == 1  # never polled: due
        tool.closed.extend(changed_rows())
        assert worker.run_once(http) == 0  # the interval has not passed
        with factory() as session, session.begin():
            session.scalars(select(ConnectorPoll)).one().last_run_at = datetime(2026, 1, 1)
        assert worker.run_once(http) == 1
    assert woken == [1]  # the delivery worker is told of the queued follow-up
    with factory() as session:
        states = session.scalars(select(ToolTicket.ticket_key)).all()
    assert sorted(states) == ["101", "31", "32"]


def test_only_glpi_is_polled(hook_client: TestClient) -> None:
    add(hook_client, "zammad", "zammad")
    from app.errors import InvalidInput

    with pytest.raises(InvalidInput, match="only GLPI 10 is polled"):
        _poll(hook_client, name="zammad")


runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STELLWERK_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        "app.components.load_configured_embedder",
        lambda settings: HashingEmbedder(model_id=f"fake-{settings.embedding_model}"),
    )
    monkeypatch.setenv("STELLWERK_EMBEDDING_MODEL", "a")
    return tmp_path


def test_the_cli_polls_once_and_sets_the_interval(env: Path, glpi: tuple[FakeTool, str]) -> None:
    tool, url = glpi
    added = runner.invoke(
        cli,
        ["connectors", "add", "glpi", "--name", "glpi", "--url", url, "--token", USER_TOKEN,
         "--write-back", "--map", "Arbeitsplatz=workplace", "--poll-every", "120"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    first = runner.invoke(cli, ["connectors", "poll", "glpi", "--once"])
    assert first.exit_code == 0, first.output
    assert "glpi: polling starts at GLPI's newest change (2026-11-01 10:00:00)" in first.output
    tool.closed.extend(changed_rows())
    second = runner.invoke(cli, ["connectors", "poll", "glpi", "--once"])
    assert second.exit_code == 0, second.output
    assert (
        "glpi: 3 changed tickets in 1 pages: 2 stored, 1 suggested; 1 queued; "
        "cursor 2026-12-01 09:10:00" in second.output
    )
    off = runner.invoke(cli, ["connectors", "poll", "glpi", "--every", "0"])
    assert off.output == "glpi: not polled by the service\n"
    zammad = runner.invoke(
        cli, ["connectors", "add", "zammad", "--name", "z", "--url", url, "--poll-every", "60"]
    )
    assert zammad.exit_code == 1 and "only GLPI 10 is polled" in zammad.output
    assert USER_TOKEN not in first.output + second.output
