"""The webhook answers within STELLWERK_WEBHOOK_DEADLINE_SECONDS: a suggestion held back
past it (an embedder that waits for the test's word) is answered 202 and queued in the
database; it completes in the background, or, when the computation is lost, from the
queue. Nothing is lost and nothing is done twice. The suggestion is held by an event, not a
clock: the deadline is crossed because the suggestion cannot finish before the answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.auth import CLI_PRINCIPAL
from app.main import create_app
from app.services.connectors import add_connector
from app.services.delivery_worker import DeliveryWorker
from app.services.outbox import Backoff
from app.services.webhook_deadline import WORKERS, take_queued
from app.settings import Settings
from app.state import app_state
from db.models import OutboxItem, ToolTicket, utcnow
from index.embedder import Vectors
from tests.auth_helpers import authorize, factory_of
from tests.connectors.fake_tools import FakeTool, serve, zammad_app, znuny_app
from tests.connectors.helpers import SECRET, TOKEN, add, payload, post, signed_headers
from tests.fakes import HashingEmbedder
from tests.live_server import serve as serve_app


class HeldEmbedder(HashingEmbedder):
    """Encodes a question only once released while `hold` is set; `abort` makes the held
    computation fail instead (a service that stopped mid-way)."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = threading.Event()
        self.held = threading.Event()
        self.release = threading.Event()
        self.abort = False
        self.entered = 0
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        if self.hold.is_set():
            with self._lock:
                self.entered += 1
            self.held.set()
            assert self.release.wait(60), "the test never released the suggestion"
            if self.abort:
                raise RuntimeError("the service stopped mid-suggestion")
        return super().encode_queries(texts)


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for something the background does (bounded; the outcome is not a time)."""
    end = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def held() -> HeldEmbedder:
    return HeldEmbedder()


@pytest.fixture
def slow_client(settings: Settings, held: HeldEmbedder) -> Iterator[TestClient]:
    # The held suggestion cannot finish, so the answer is 202 whatever the load; the 1 s is
    # for the pool's thread to begin it (else the queue alone takes it, a branch of its own).
    quick = settings.model_copy(update={"connector_worker": False, "webhook_deadline_seconds": 1})
    with TestClient(create_app(quick, embedder=held), raise_server_exceptions=False) as client:
        authorize(client)
        yield client


def _items(client: TestClient) -> list[OutboxItem]:
    with factory_of(client)() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def _worker(client: TestClient) -> DeliveryWorker:
    runtime = app_state(client.app).ready()
    settings = app_state(client.app).settings
    factory = factory_of(client)
    return DeliveryWorker(
        factory,
        backoff=Backoff(60, 600, 3),
        poll_seconds=1,
        timeout_seconds=5,
        take_inbound=lambda item: take_queued(
            factory, runtime.live_index, runtime.router, settings, item
        ),
    )


def _due_now(client: TestClient) -> None:
    with factory_of(client)() as session, session.begin():
        session.execute(update(OutboxItem).values(next_attempt_at=utcnow()))


def test_a_slow_suggestion_is_answered_202_and_completes_in_the_background(
    slow_client: TestClient, held: HeldEmbedder
) -> None:
    add(slow_client, "zammad", "zammad")
    held.hold.set()
    before = utcnow()
    response = post(slow_client, "zammad", "zammad", payload("zammad_open"), delivery="d-1")
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "queued", "ticket": "ticket:zammad:10081", "queued": 1}
    assert held.held.is_set()  # the suggestion was under way, not skipped
    (queued,) = _items(slow_client)
    assert (queued.kind, queued.status, queued.payload["delivery_id"]) == (
        "inbound",
        "pending",
        "d-1",
    )
    # The computation still runs: the worker leaves the queued delivery alone meanwhile.
    assert queued.next_attempt_at - before > timedelta(seconds=59)
    held.release.set()
    _until(lambda: _items(slow_client)[0].status == "delivered", "the late suggestion")
    inbound, note = _items(slow_client)
    assert inbound.delivered_at is not None
    assert (note.kind, note.status, note.payload["ticket_key"]) == ("note", "pending", "81")
    with factory_of(slow_client)() as session:
        state = session.scalars(select(ToolTicket)).one()
        assert state.suggested_at is not None
    held.hold.clear()
    # A replay changes nothing (answered in the call as a duplicate, or, should even that
    # miss the deadline on a loaded machine, queued and found a duplicate).
    replay = post(slow_client, "zammad", "zammad", payload("zammad_open"), delivery="d-1")
    assert replay.json()["status"] in ("duplicate", "queued")
    _until(
        lambda: all(i.status == "delivered" for i in _items(slow_client) if i.kind == "inbound"),
        "the replay to settle",
    )
    assert [i.kind for i in _items(slow_client)].count("note") == 1


def test_a_lost_computation_is_taken_from_the_queue_once(
    slow_client: TestClient, held: HeldEmbedder
) -> None:
    tool = FakeTool(token=TOKEN)
    with serve(zammad_app(tool)) as url:
        add(slow_client, "zammad", "zammad", url=url)
        held.hold.set()
        held.abort = True
        response = post(slow_client, "zammad", "zammad", payload("zammad_open"))
        assert response.status_code == 202
        held.release.set()  # the computation fails: only the queue has the delivery now
        held.hold.clear()
        _due_now(slow_client)
        with httpx.Client(timeout=5) as http:
            worker = _worker(slow_client)
            assert worker.run_once(http) == 1  # the queued delivery: suggestion and note
            assert [i.kind for i in _items(slow_client)] == ["inbound", "note"]
            assert worker.run_once(http) == 1  # the note
            assert worker.run_once(http) == 0
    assert [i.status for i in _items(slow_client)] == ["delivered", "delivered"]
    assert len(tool.calls("POST", "/api/v1/ticket_articles")) == 1


def test_with_every_pool_thread_busy_the_queue_takes_a_delivery_at_once(
    slow_client: TestClient, held: HeldEmbedder
) -> None:
    """The pool's threads all hold a suggestion: the next delivery never starts, is taken
    off the pool and queued due at once (no grace), and the worker takes it."""
    add(slow_client, "zammad", "zammad")
    held.hold.set()
    start = utcnow()
    for number in range(WORKERS):
        data = payload("zammad_open")
        data["ticket"].update({"id": 100 + number, "number": f"2000{number}"})
        assert post(slow_client, "zammad", "zammad", data).status_code == 202
    _until(lambda: held.entered == WORKERS, "every pool thread to hold a suggestion")
    last = payload("zammad_open")
    assert post(slow_client, "zammad", "zammad", last).status_code == 202
    *running, waiting = _items(slow_client)
    assert all(i.next_attempt_at > start + timedelta(seconds=59) for i in running)
    assert waiting.next_attempt_at <= utcnow()  # nobody computes it: due now
    assert held.entered == WORKERS
    held.hold.clear()
    held.release.set()
    _until(
        lambda: (
            [i.status for i in _items(slow_client) if i.kind == "inbound"].count("delivered")
            == WORKERS
        ),
        "the held suggestions to end",
    )
    with httpx.Client(timeout=5) as http:
        _worker(slow_client).run_once(http)  # the waiting delivery, then its note
    notes = [i for i in _items(slow_client) if i.kind == "note"]
    assert sorted(n.payload["ticket_key"] for n in notes) == ["100", "101", "102", "103", "81"]


def test_znuny_gets_the_note_by_ticket_update_when_its_answer_went_without(
    slow_client: TestClient, held: HeldEmbedder
) -> None:
    tool = FakeTool(token="stellwerk:pass")
    with serve(znuny_app(tool)) as url:
        add(slow_client, "znuny", "znuny", url=url, token="stellwerk:pass")
        held.hold.set()
        response = post(slow_client, "znuny", "znuny", payload("znuny_ticket_create"))
        # Znuny takes any 20x; with no OTRS_* element in the answer it applies nothing.
        assert response.status_code == 202
        assert "OTRS_TicketArticleAdd" not in response.json()
        held.release.set()
        _until(lambda: len(_items(slow_client)) == 2, "the late suggestion's note")
        with httpx.Client(timeout=5) as http:
            assert _worker(slow_client).run_once(http) == 1
    (update_call,) = tool.calls("PATCH", "/Ticket/")
    assert update_call.path == "/Ticket/1042"
    article = update_call.body["Article"]
    assert (article["IsVisibleForCustomer"], article["CommunicationChannel"]) == (0, "Internal")
    assert article["Body"].startswith("Stellwerk suggestion")
    assert [i.status for i in _items(slow_client)] == ["delivered", "delivered"]


def test_over_real_http_the_queued_suggestion_reaches_the_tool(
    settings: Settings, held: HeldEmbedder
) -> None:
    """A real server with its delivery worker, a fake Zammad on loopback: the webhook is
    answered 202 while the suggestion is held; released, the note reaches Zammad once."""
    tool = FakeTool(token=TOKEN)
    live = settings.model_copy(
        update={"webhook_deadline_seconds": 0.05, "connector_poll_seconds": 0.05}
    )
    app = create_app(live, embedder=held)
    with serve(zammad_app(tool)) as tool_url, serve_app(app) as base:
        with app_state(app).ready().session_factory() as session, session.begin():
            add_connector(
                session, principal=CLI_PRINCIPAL, name="zammad", tool="zammad", url=tool_url,
                secret=SECRET, token=TOKEN, write_back=True, set_group=False, group_map={},
            )  # fmt: skip
        held.hold.set()
        body = json.dumps(payload("zammad_open")).encode()
        response = httpx.post(
            f"{base}/api/v1/connectors/zammad/webhook",
            content=body,
            headers={"Content-Type": "application/json", **signed_headers("zammad", body)},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        assert tool.all_notes() == []
        held.release.set()
        _until(lambda: len(tool.all_notes()) == 1, "the note in Zammad")
        _until(lambda: _statuses(app) == ["delivered", "delivered"], "the queue to settle")
    (note,) = tool.all_notes()
    assert note["internal"] is True and note["ticket_id"] == 81


def _statuses(app: object) -> list[str]:
    with app_state(app).ready().session_factory() as session:
        return list(session.scalars(select(OutboxItem.status).order_by(OutboxItem.id)))
