"""Weekly digests per team and per firm (issue 12, item 6): the figures of the seeded week,
each firm only its own, and the message through the delivery queue to a firm's endpoint
(a fake firm server on loopback) and a team's, signed, once per week."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.auth import CLI_PRINCIPAL
from app.cli import cli
from app.services.contractors import add_endpoint
from app.services.delivery_worker import DeliveryWorker
from app.services.digest_delivery import add_team_endpoint, enqueue_digests
from app.services.outbox import Backoff
from app.settings import Settings
from db.models import OutboxItem
from tests.app.test_loop import ACME, NET, seed
from tests.auth_helpers import bearer, factory_of, keys_of
from tests.connectors.fake_tools import FakeTool, firm_app, serve
from tests.fakes import HashingEmbedder

WEEK = {"week": "2026-11-11"}  # W2: 2026-11-09 to 11-15
SECRET = "digest-secret-0123456789"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No worker in the service: the test runs the deliveries itself, one pass."""
    return settings.model_copy(update={"connector_worker": False})


def _seeded(client: TestClient) -> None:
    with factory_of(client)() as session, session.begin():
        seed(session)


def _get(client: TestClient, path: str, who: str = "admin") -> Any:
    return client.get(path, params=WEEK, headers=bearer(keys_of(client)[who]))


def test_a_teams_digest_holds_its_week(client: TestClient) -> None:
    _seeded(client)
    answer = _get(client, "/api/v1/digests/team/partner-net")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["start"], body["end"]) == ("2026-11-09", "2026-11-15")
    # Suggestions naming partner-net: 6 and 7, both escalated; outcomes suggested for it:
    # 6 (moved to network) and 7; marks on its articles: 3 (one of them helpful).
    figures = body["figures"]
    assert (figures["suggestions"], figures["escalated"], figures["outcomes"]) == (2, 2, 2)
    assert (figures["agreed"], figures["reassigned"]) == (1, 1)
    assert (figures["feedback"], figures["helpful"]) == (4, 1)
    assert body["new_gaps"] == []  # the gap finding's hook, empty until it lands
    assert [t["target"] for t in body["open_tasks"]] == ["article:part-net", "article:vpn"]
    # A contractor reads no team's digest, only its firm's.
    assert _get(client, "/api/v1/digests/team/partner-net", "contractor").status_code == 403


def test_a_firms_digest_only_for_staff_and_the_firm_itself(client: TestClient) -> None:
    _seeded(client)
    mine = _get(client, f"/api/v1/digests/firm/{NET}", "contractor")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    figures = body["figures"]
    assert (figures["escalated"], figures["outcomes"], figures["reassigned"]) == (2, 2, 1)
    assert (figures["feedback"], figures["helpful"]) == (2, 1)
    assert [t["topic"] for t in body["training"]] == ["Title part-net", "partner-net -> network"]
    assert {t["target"] for t in body["open_tasks"]} == {"article:part-net", "article:vpn"}
    staff = _get(client, f"/api/v1/digests/firm/{NET}").json()
    assert {**staff, "open_tasks": []} == {**body, "open_tasks": []}  # staff read the same
    # Another firm's digest looks exactly like a firm that does not exist.
    other = _get(client, f"/api/v1/digests/firm/{NET}", "other-contractor")
    absent = _get(client, "/api/v1/digests/firm/Nobody AG", "other-contractor")
    assert other.status_code == absent.status_code == 404
    assert other.json()["error"]["code"] == absent.json()["error"]["code"]
    theirs = _get(client, f"/api/v1/digests/firm/{ACME}", "other-contractor").json()
    assert [t["target"] for t in theirs["open_tasks"]] == ["article:part-acme"]
    assert NET not in json.dumps(theirs)


@pytest.fixture
def firm() -> Iterator[tuple[FakeTool, str]]:
    tool = FakeTool()
    with serve(firm_app(tool)) as url:
        yield tool, url


def test_digests_go_out_through_the_delivery_queue_signed_once_a_week(
    client: TestClient, firm: tuple[FakeTool, str]
) -> None:
    _seeded(client)
    tool, url = firm
    factory = factory_of(client)
    with factory() as session, session.begin():
        add_endpoint(session, principal=CLI_PRINCIPAL, firm=NET, url=f"{url}/stellwerk",
                     secret=SECRET)  # fmt: skip
        add_team_endpoint(session, principal=CLI_PRINCIPAL, team="network",
                          url=f"{url}/stellwerk", secret=SECRET)  # fmt: skip
        queued = enqueue_digests(session, date(2026, 11, 11), None)
    assert queued == ["team:network", f"firm:{NET}"]
    with factory() as session, session.begin():
        assert enqueue_digests(session, date(2026, 11, 13), None) == []
    worker = DeliveryWorker(factory, backoff=Backoff(0.01, 0.05, 3), poll_seconds=0.05,
                            timeout_seconds=5)  # fmt: skip
    with httpx.Client(timeout=5) as http:
        assert worker.run_once(http) == 2
    with factory() as session:
        statuses = [i.status for i in session.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    assert statuses == ["delivered", "delivered"]
    calls = tool.calls("POST", "/stellwerk")
    messages = {call.body["name"]: call for call in calls}
    assert set(messages) == {"network", NET}
    sent = messages[NET]
    assert sent.body["event"] == "digest.weekly"
    assert sent.body["figures"]["escalated"] == 2
    raw = json.dumps(sent.body, sort_keys=True).encode()
    stamp = sent.headers["x-stellwerk-timestamp"]
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    assert sent.headers["x-stellwerk-signature"] == f"sha256={expected}"


def test_digest_cli_shows_and_queues(
    settings: Settings, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory() as session, session.begin():
        seed(session)
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STELLWERK_DATABASE_URL", str(settings.database_url))
    # The seeded world holds no passages; the week's gaps need an embedder, not the real
    # model (which each command would otherwise export afresh into this data folder).
    monkeypatch.setattr(
        "app.components.load_configured_embedder", lambda settings: HashingEmbedder()
    )
    shown = CliRunner().invoke(cli, ["digest", "show", "--firm", NET, "--week", "2026-11-11",
                                     "--json"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["figures"]["reassigned"] == 1
    text = CliRunner().invoke(cli, ["digest", "show", "--team", "network", "--week", "2026-11-11"])
    assert text.stdout.startswith("team network: 2026-11-09 to 2026-11-15")
    added = CliRunner().invoke(cli, ["digest", "endpoint", "network", "--url",
                                     "http://127.0.0.1:9/x", "--secret", SECRET])  # fmt: skip
    assert added.exit_code == 0, added.output
    sent = CliRunner().invoke(cli, ["digest", "send", "--week", "2026-11-11"])
    assert sent.stdout.splitlines() == ["queued 1 digests", "team:network"]
    assert CliRunner().invoke(cli, ["digest", "show", "--week", "x", "--team", "a"]).exit_code != 0
    assert CliRunner().invoke(cli, ["digest", "show"]).exit_code != 0
