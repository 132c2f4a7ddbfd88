"""Write-backs through the persisted queue to fake tools on loopback: Zammad internal notes,
Jira private comments, GLPI private follow-ups; retries with backoff, failures, the
delivery log, and a delivery interrupted mid-way that is not sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.services.delivery_worker import DeliveryWorker
from app.services.outbox import Backoff, in_doubt
from connectors.base import MARKER_PREFIX
from db.models import OutboxItem, utcnow
from tests.auth_helpers import factory_of
from tests.connectors.fake_tools import FakeTool, glpi_app, jira_app, serve, zammad_app
from tests.connectors.helpers import TOKEN, add, payload, post

BACKOFF = Backoff(first=60.0, longest=600.0, attempts=3)


@pytest.fixture
def zammad() -> Iterator[tuple[FakeTool, str]]:
    tool = FakeTool(token=TOKEN)
    with serve(zammad_app(tool)) as url:
        yield tool, url


def _worker(client: TestClient) -> DeliveryWorker:
    return DeliveryWorker(factory_of(client), backoff=BACKOFF, poll_seconds=0.05, timeout_seconds=5)


def _run(client: TestClient) -> int:
    with httpx.Client(timeout=5) as http:
        return _worker(client).run_once(http)


def _items(client: TestClient) -> list[OutboxItem]:
    with factory_of(client)() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def _due_now(client: TestClient) -> None:
    with factory_of(client)() as session, session.begin():
        session.execute(update(OutboxItem).values(next_attempt_at=utcnow()))


def test_zammad_note_is_posted_internal_with_the_token(
    hook_client: TestClient, zammad: tuple[FakeTool, str]
) -> None:
    tool, url = zammad
    add(hook_client, "zammad", "zammad", url=url)
    post(hook_client, "zammad", "zammad", payload("zammad_open"))
    assert _run(hook_client) == 1
    (call,) = tool.calls("POST", "/api/v1/ticket_articles")
    assert call.headers["authorization"] == f"Token token={TOKEN}"
    assert call.body["internal"] is True
    assert (call.body["ticket_id"], call.body["type"]) == (81, "note")
    assert "Stellwerk suggestion" in call.body["body"]
    (item,) = _items(hook_client)
    assert f"{MARKER_PREFIX}{item.id}" in call.body["body"]
    assert (item.status, item.attempts) == ("delivered", 1)
    assert _run(hook_client) == 0  # nothing is sent twice


def test_a_failing_tool_is_retried_with_backoff_then_delivered(
    hook_client: TestClient, zammad: tuple[FakeTool, str]
) -> None:
    tool, url = zammad
    tool.faults["/api/v1/ticket_articles"] = [503, 429]
    add(hook_client, "zammad", "zammad", url=url)
    post(hook_client, "zammad", "zammad", payload("zammad_open"))
    before = utcnow()
    _run(hook_client)
    (item,) = _items(hook_client)
    assert (item.status, item.attempts) == ("pending", 1)
    assert "answered 503" in (item.last_error or "")
    waited = item.next_attempt_at - before
    assert timedelta(seconds=59) < waited < timedelta(seconds=62)  # the first backoff step
    assert _run(hook_client) == 0  # not due yet
    _due_now(hook_client)
    _run(hook_client)
    (item,) = _items(hook_client)
    assert (item.status, item.attempts) == ("pending", 2)
    assert item.next_attempt_at - utcnow() > timedelta(seconds=100)  # doubled
    _due_now(hook_client)
    _run(hook_client)
    (item,) = _items(hook_client)
    assert (item.status, item.attempts, item.last_error) == ("delivered", 3, None)
    assert len(tool.notes["81"]) == 1


def test_a_refusal_fails_at_once_and_shows_in_the_log_without_the_token(
    hook_client: TestClient, zammad: tuple[FakeTool, str]
) -> None:
    _, url = zammad
    add(hook_client, "zammad", "zammad", url=url, token="wrong-token-value")
    post(hook_client, "zammad", "zammad", payload("zammad_open"))
    _run(hook_client)
    (item,) = _items(hook_client)
    assert (item.status, item.attempts) == ("failed", 1)
    log = hook_client.get("/api/v1/connectors/deliveries").json()
    assert log["counts"] == {"failed": 1}
    (entry,) = log["deliveries"]
    assert entry["last_error"] == "POST /api/v1/ticket_articles: the tool answered 401"
    text = hook_client.get("/api/v1/connectors/deliveries").text
    assert "wrong-token-value" not in text


def test_the_last_attempt_marks_it_failed(
    hook_client: TestClient, zammad: tuple[FakeTool, str]
) -> None:
    tool, url = zammad
    tool.faults["/api/v1/ticket_articles"] = [503, 503, 503, 503]
    add(hook_client, "zammad", "zammad", url=url)
    post(hook_client, "zammad", "zammad", payload("zammad_open"))
    for _ in range(BACKOFF.attempts):
        _due_now(hook_client)
        _run(hook_client)
    (item,) = _items(hook_client)
    assert (item.status, item.attempts) == ("failed", 3)
    assert tool.notes == {}


def test_an_interrupted_delivery_is_checked_before_a_resend(
    hook_client: TestClient, zammad: tuple[FakeTool, str]
) -> None:
    """A worker stopped after the tool took the note but before it was marked delivered:
    the next start finds the note by its marker and does not post it again."""
    tool, url = zammad
    add(hook_client, "zammad", "zammad", url=url)
    post(hook_client, "zammad", "zammad", payload("zammad_open"))
    other = payload("zammad_open")
    other["ticket"].update({"id": 82, "number": "10082"})
    post(hook_client, "zammad", "zammad", other)
    first, _ = _items(hook_client)
    with factory_of(hook_client)() as session, session.begin():
        session.execute(
            update(OutboxItem).where(OutboxItem.id == first.id).values(status="sending")
        )
    marker = f"{MARKER_PREFIX}{first.id}"
    tool.notes["81"] = [{"ticket_id": 81, "body": f"Stellwerk suggestion<br>{marker}"}]
    assert in_doubt(factory_of(hook_client)) == [first.id]
    _run(hook_client)
    assert [i.status for i in _items(hook_client)] == ["delivered", "delivered"]
    (posted,) = tool.calls("POST", "/api/v1/ticket_articles")  # only the second one
    assert posted.body["ticket_id"] == 82
    assert len(tool.calls("GET", "/api/v1/ticket_articles/by_ticket/81")) == 1


def test_jira_comment_is_private_and_basic_authenticated(hook_client: TestClient) -> None:
    tool = FakeTool()
    with serve(jira_app(tool)) as url:
        add(hook_client, "jira", "jsm", url=url, token="bot@example.com:api-token")
        post(hook_client, "jira", "jsm", payload("jira_created"))
        _run(hook_client)
    (call,) = tool.calls("POST", "/rest/servicedeskapi/request/SD-42/comment")
    assert call.body["public"] is False
    assert call.body["body"].startswith("Stellwerk suggestion")
    assert call.headers["authorization"] == "Basic Ym90QGV4YW1wbGUuY29tOmFwaS10b2tlbg=="
    assert [i.status for i in _items(hook_client)] == ["delivered"]


def test_glpi_followup_is_private_in_a_session_from_the_user_token(
    hook_client: TestClient,
) -> None:
    tool = FakeTool(token="glpi-user-token")
    with serve(glpi_app(tool)) as url:
        add(hook_client, "glpi", "glpi", url=url, token="glpi-user-token")
        assert post(hook_client, "glpi", "glpi", payload("glpi_ticket_new")).json()["queued"] == 1
        _run(hook_client)
    (call,) = tool.calls("POST", "/apirest.php/ITILFollowup")
    assert call.body["input"]["is_private"] == 1
    assert (call.body["input"]["itemtype"], call.body["input"]["items_id"]) == ("Ticket", 7)
    assert call.headers["session-token"] == "glpi-session-1"
    assert tool.calls("GET", "/apirest.php/initSession")[0].headers["authorization"] == (
        "user_token glpi-user-token"
    )
    assert len(tool.calls("GET", "/apirest.php/killSession")) == 1
    assert [i.status for i in _items(hook_client)] == ["delivered"]


def test_a_removed_connector_fails_its_deliveries(
    hook_client: TestClient, zammad: tuple[FakeTool, str]
) -> None:
    _, url = zammad
    add(hook_client, "zammad", "zammad", url=url)
    post(hook_client, "zammad", "zammad", payload("zammad_open"))
    with factory_of(hook_client)() as session, session.begin():
        from app.auth import CLI_PRINCIPAL
        from app.services.connectors import remove_connector

        remove_connector(session, principal=CLI_PRINCIPAL, name="zammad")
    _run(hook_client)
    (item,) = _items(hook_client)
    assert item.status == "failed"
    assert "removed" in (item.last_error or "")


@pytest.mark.parametrize(
    ("tool_name", "fixture", "key", "token"),
    [
        ("jira", "jira_created", "SD-42", "bot@example.com:api-token"),
        ("glpi", "glpi_ticket_new", "7", "glpi-user-token"),
    ],
)
def test_jira_and_glpi_interrupted_deliveries_are_looked_up_before_a_resend(
    hook_client: TestClient, tool_name: str, fixture: str, key: str, token: str
) -> None:
    """As for Zammad: the tool already has the note (its marker) from the attempt a stop
    interrupted, so it is not posted again; a note without it is posted once."""
    app = {"jira": jira_app, "glpi": glpi_app}[tool_name]
    write = {
        "jira": f"/rest/servicedeskapi/request/{key}/comment",
        "glpi": "/apirest.php/ITILFollowup",
    }
    lookup = {
        "jira": f"/rest/servicedeskapi/request/{key}/comment",
        "glpi": f"/apirest.php/Ticket/{key}/ITILFollowup",
    }
    tool = FakeTool(token=token)
    with serve(app(tool)) as url:
        add(hook_client, tool_name, "tool", url=url, token=token)
        post(hook_client, tool_name, "tool", payload(fixture))
        (item,) = _items(hook_client)
        with factory_of(hook_client)() as session, session.begin():
            session.execute(update(OutboxItem).values(status="sending"))
        marker = f"{MARKER_PREFIX}{item.id}"
        field = "body" if tool_name == "jira" else "content"
        tool.notes[key] = [{field: f"Stellwerk suggestion\n\n{marker}"}]
        assert in_doubt(factory_of(hook_client)) == [item.id]
        _run(hook_client)
        assert [i.status for i in _items(hook_client)] == ["delivered"]
        assert tool.calls("POST", write[tool_name]) == []  # found by its marker
        assert len(tool.calls("GET", lookup[tool_name])) == 1
        # Without the marker in the tool, the in-doubt delivery is sent (once).
        tool.notes.clear()
        with factory_of(hook_client)() as session, session.begin():
            session.execute(update(OutboxItem).values(status="sending"))
        in_doubt(factory_of(hook_client))
        _run(hook_client)
        assert len(tool.calls("POST", write[tool_name])) == 1
        assert [i.status for i in _items(hook_client)] == ["delivered"]
