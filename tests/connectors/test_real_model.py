"""The whole connector path through the real bundled model, the demo knowledge base and
fake Zammad and contractor servers on loopback: webhook -> suggestion -> internal note and
the firm's signed notification -> closed ticket stored with its outcome."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import CLI_PRINCIPAL
from app.main import create_app
from app.services.contractors import add_endpoint
from app.services.delivery_worker import DeliveryWorker
from app.services.outbox import Backoff
from db.models import Article, ToolTicket
from index.embedder import Embedder
from tests.auth_helpers import bearer, factory_of
from tests.connectors.fake_tools import FakeTool, firm_app, serve, zammad_app
from tests.connectors.helpers import TOKEN, add, payload, post
from tests.knowledge_base import KnowledgeBase, copy_knowledge_base, kb_settings

pytestmark = pytest.mark.slow

FIRM = "NordNetz Services GmbH"
FIRM_SECRET = "nordnetz-shared-secret-0123"
PUBLIC_URL = "https://stellwerk.example.org"


@pytest.fixture
def real_client(
    demo_knowledge_base: KnowledgeBase,
    real_embedder: Embedder,
    tmp_path: Path,
) -> Iterator[TestClient]:
    data_dir = copy_knowledge_base(demo_knowledge_base, tmp_path / "data")
    settings = kb_settings(data_dir).model_copy(
        update={"connector_worker": False, "public_url": PUBLIC_URL, "webhook_deadline_seconds": 60}
    )
    with TestClient(create_app(settings, embedder=real_embedder)) as client:
        client.headers.update(bearer(demo_knowledge_base.keys["admin"]))
        yield client


def test_zammad_ticket_to_note_firm_notification_and_outcome(real_client: TestClient) -> None:
    zammad, firm = FakeTool(token=TOKEN), FakeTool()
    with serve(zammad_app(zammad)) as zammad_url, serve(firm_app(firm)) as firm_url:
        add(real_client, "zammad", "zammad", url=zammad_url, group_map={"Netzwerk": "network"})
        with factory_of(real_client)() as session, session.begin():
            add_endpoint(
                session,
                principal=CLI_PRINCIPAL,
                firm=FIRM,
                url=f"{firm_url}/stellwerk",
                secret=FIRM_SECRET,
            )
        data = payload("zammad_open")
        data["ticket"]["title"] = "Kein Netzwerk am Arbeitsplatz, IP 169.254.x.x"
        data["article"]["body"] = (
            "Die Docking-Station hat kein LAN, ipconfig zeigt 169.254.3.9. An einem anderen "
            "Platz geht es. Raum 3.201."
        )
        answer = post(real_client, "zammad", "zammad", data).json()
        assert answer == {"status": "suggested", "ticket": "ticket:zammad:10081", "queued": 2}
        with factory_of(real_client)() as session:
            state = session.scalars(select(ToolTicket)).one()
        assert state.suggested_team == "network"
        worker = DeliveryWorker(
            factory_of(real_client),
            backoff=Backoff(1, 1, 1),
            poll_seconds=0.05,
            timeout_seconds=5,
        )
        with httpx.Client(timeout=5) as http:
            assert worker.run_once(http) == 2
        (note,) = zammad.all_notes()
        assert note["internal"] is True
        assert "escalate to network" in note["body"]
        assert f"{PUBLIC_URL}/api/v1/articles/team-network" in note["body"]
        assert FIRM in note["body"]

        (told,) = firm.calls("POST", "/stellwerk")
        raw = json.dumps(told.body, sort_keys=True).encode()
        stamp = told.headers["x-stellwerk-timestamp"]
        expected = hmac.new(FIRM_SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
        assert told.headers["x-stellwerk-signature"] == f"sha256={expected.hexdigest()}"
        message = told.body
        assert message["ticket"] == {
            "id": "ticket:zammad:10081",
            "summary": "Kein Netzwerk am Arbeitsplatz, IP 169.254.x.x",
        }
        assert message["team"] == "network" and message["escalation"]["criteria"]
        assert "Docking-Station" not in json.dumps(message)  # the description stays inside
        with factory_of(real_client)() as session:
            audiences = {
                a.title: (a.audience, a.companies) for a in session.scalars(select(Article))
            }
        assert message["articles"], message
        for shared in message["articles"]:
            audience, companies = audiences[shared["title"]]
            assert audience == "public" or (audience == "partners" and FIRM in companies)
            assert shared["link"].startswith(PUBLIC_URL)

        closed = post(real_client, "zammad", "zammad", payload("zammad_closed")).json()
        assert closed["status"] == "stored"
    (outcome,) = real_client.get("/api/v1/escalations").json()["outcomes"]
    assert (outcome["suggested_team"], outcome["final_team"], outcome["agreed"]) == (
        "network",
        "network",
        True,
    )
    found = real_client.post(
        "/api/v1/search",
        json={"query": "VPN trennt alle paar Minuten", "k": 5, "filters": {"kind": "ticket"}},
    ).json()
    assert "ticket:zammad:10081" in [hit["id"] for hit in found["hits"]]  # searchable now
