"""The HTTP API end to end with a fake embedder, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.settings import Settings
from app.state import app_state
from tests.auth_helpers import publish_article
from tests.factories import article_markdown, ticket
from tests.fakes import HashingEmbedder

VPN = article_markdown(
    "VPN drops every few minutes",
    """
## Symptom
The GlobalProtect VPN disconnects every ten minutes at home.

## Fix
Disable the power saving of the WLAN adapter and update the VPN client.
""",
    team="network",
)
PRINTER = article_markdown(
    "Drucker druckt nicht",
    """
## Lösung
Druckerwarteschlange leeren und den Spooler-Dienst neu starten.
""",
    team="workplace",
    language="de",
)


def _create(client: TestClient, slug: str, markdown: str) -> None:
    response = client.post("/api/v1/articles", json={"slug": slug, "markdown": markdown})
    assert response.status_code == 201, response.text
    publish_article(client, slug, markdown, write=False)  # a second key approves


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    ready = client.get("/api/v1/ready").json()
    assert ready["status"] == "ready"
    assert ready["indexed_passages"] == 0
    assert ready["model"] == "fake-hashing-64"


def test_ready_counts_passages_a_cli_ingest_wrote_meanwhile(
    client: TestClient, settings: Settings
) -> None:
    from db.session import create_db_engine, session_factory
    from ingest.pipeline import ingest_tickets
    from ingest.tickets import ResolvedTicket

    assert client.get("/api/v1/ready").json()["indexed_passages"] == 0
    # What `stellwerk ingest tickets` does: its own engine and sessions, another process.
    engine = create_db_engine(settings.resolved_database_url)
    try:
        rows = [ticket("1", "VPN drops", "every ten minutes"), ticket("2", "Printer", "jams")]
        ingest_tickets(
            session_factory(engine),
            HashingEmbedder(),
            [ResolvedTicket.model_validate(r) for r in rows],
            max_words=180,
        )
    finally:
        engine.dispose()
    ready = client.get("/api/v1/ready").json()
    assert ready["indexed_passages"] == 2


def test_article_written_is_searchable_at_once(client: TestClient) -> None:
    _create(client, "vpn-drops", VPN)
    _create(client, "drucker", PRINTER)
    response = client.post("/api/v1/search", json={"query": "VPN disconnects", "k": 5})
    assert response.status_code == 200
    hits = response.json()["hits"]
    assert hits[0]["id"] == "article:vpn-drops"
    assert hits[0]["kind"] == "article"
    assert hits[0]["heading_path"][0] == "VPN drops every few minutes"
    assert hits[0]["link"].startswith("/api/v1/articles/vpn-drops")
    assert len(hits) == 2


def test_search_filters_apply_inside_retrieval(client: TestClient) -> None:
    _create(client, "vpn-drops", VPN)
    _create(client, "drucker", PRINTER)
    response = client.post(
        "/api/v1/search",
        json={"query": "VPN disconnects", "k": 5, "filters": {"team": "workplace"}},
    )
    hits = response.json()["hits"]
    assert [h["id"] for h in hits] == ["article:drucker"]


def test_update_replaces_and_delete_removes_from_search(client: TestClient) -> None:
    _create(client, "vpn-drops", VPN)
    replaced = VPN.replace("GlobalProtect", "AnyConnect")
    response = client.put("/api/v1/articles/vpn-drops", json={"markdown": replaced})
    assert response.status_code == 200
    # A revision waits for review; the published version stays live meanwhile.
    assert response.json()["pending_version"] == 2
    assert "GlobalProtect" in client.get("/api/v1/articles/vpn-drops").json()["markdown"]
    publish_article(client, "vpn-drops", replaced)
    assert "AnyConnect" in client.get("/api/v1/articles/vpn-drops").json()["markdown"]
    ready = client.get("/api/v1/ready").json()
    assert ready["indexed_passages"] == 2
    assert client.delete("/api/v1/articles/vpn-drops").status_code == 204
    assert client.post("/api/v1/search", json={"query": "VPN"}).json()["hits"] == []
    assert client.get("/api/v1/articles/vpn-drops").status_code == 404


def test_duplicate_create_is_a_conflict(client: TestClient) -> None:
    _create(client, "vpn-drops", VPN)
    response = client.post("/api/v1/articles", json={"slug": "vpn-drops", "markdown": VPN})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_invalid_front_matter_names_the_field_and_writes_nothing(client: TestClient) -> None:
    bad = VPN.replace("audience: internal", "audience: everyone")
    response = client.post("/api/v1/articles", json={"slug": "vpn-drops", "markdown": bad})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_article"
    assert body["details"][0]["field"] == "audience"
    assert client.get("/api/v1/articles").json()["total"] == 0


def test_ticket_push_upserts_and_masks_personal_data(client: TestClient) -> None:
    record = ticket(
        "INC-1",
        "VPN drops at home",
        "Call me on +49 170 1234567 or mail max.mustermann@example.com, VPN drops.",
        resolution="Updated the VPN client.",
    )
    first = client.post("/api/v1/tickets", json=record)
    assert first.status_code == 201
    stored = first.json()["ticket"]
    assert "1234567" not in stored["description"]
    assert "example.com" not in stored["description"]
    record["resolution"] = "Replaced the WLAN driver."
    second = client.post("/api/v1/tickets", json=record)
    assert second.status_code == 200
    assert second.json()["created"] is False
    read = client.get("/api/v1/tickets/test/INC-1").json()
    assert read["resolution"] == "Replaced the WLAN driver."
    hits = client.post("/api/v1/search", json={"query": "VPN drops"}).json()["hits"]
    assert [h["id"] for h in hits] == ["ticket:test:INC-1"]


def _router_trained(client: TestClient) -> None:
    """Tickets retrain the router in the background; wait for it like a later request would."""
    router = app_state(client.app).ready().router
    assert router.wait_idle(timeout=30)


def _vpn_history(client: TestClient, markdown: str) -> None:
    _create(client, "vpn-drops", markdown)
    for number in range(3):
        client.post(
            "/api/v1/tickets",
            json=ticket(f"N{number}", "VPN disconnects", "VPN drops every ten minutes"),
        )
    client.post(
        "/api/v1/tickets",
        json=ticket("W1", "Drucker druckt nicht", "Warteschlange hängt", team="workplace"),
    )
    _router_trained(client)


def test_suggest_returns_solutions_team_and_escalation(client: TestClient) -> None:
    # A how-to that needs second-level rights never resolves at first level.
    _vpn_history(client, VPN.replace("kind: article", "kind: article\nfirst_level: false"))
    response = client.post(
        "/api/v1/suggest", json={"title": "VPN drops", "description": "every ten minutes"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["team"]["name"] == "network"
    assert body["team"]["confidence"] > 0.5
    assert body["team"]["stage"] == "vote"
    assert body["team"]["abstained"] is False
    assert body["escalation"]["action"] == "escalate"
    assert body["escalation"]["team"] == "network"
    assert body["escalation"]["solution"] is None
    evidence = body["evidence"]["similar_tickets"]
    assert {e["id"] for e in evidence[:3]} == {f"ticket:test:N{n}" for n in range(3)}
    assert evidence[0]["link"].startswith("/api/v1/tickets/test/N")
    kinds = {s["kind"] for s in body["solutions"]}
    assert kinds == {"article", "ticket"}
    ticket_solutions = [s for s in body["solutions"] if s["kind"] == "ticket"]
    assert ticket_solutions[0]["resolution"] == "Fixed."


def test_suggest_resolves_at_first_level_when_a_how_to_matches_closely(
    client: TestClient,
) -> None:
    _vpn_history(client, VPN)
    close = client.post(
        "/api/v1/suggest",
        json={"title": "VPN drops every few minutes", "description": VPN.split("---")[-1]},
    ).json()
    assert close["escalation"]["action"] == "resolve_at_first_level"
    assert close["escalation"]["solution"]["slug"] == "vpn-drops"
    assert close["escalation"]["solution"]["similarity"] >= 0.89
    assert close["team"]["name"] == "network"  # still said, should first level fail
    far = client.post(
        "/api/v1/suggest", json={"title": "VPN drops", "description": "every ten minutes"}
    ).json()
    assert far["escalation"]["action"] == "escalate"


def test_suggest_on_empty_knowledge_base_leaves_it_to_the_dispatcher(client: TestClient) -> None:
    body = client.post("/api/v1/suggest", json={"title": "Something odd"}).json()
    assert body["solutions"] == []
    assert body["team"] is None
    assert body["escalation"]["action"] == "dispatcher"


def test_search_prefers_the_users_language_without_dropping_others(client: TestClient) -> None:
    body = "## Fix\nRestart the GlobalProtect VPN client after the update."
    _create(client, "vpn-en", article_markdown("VPN client update", body, language="en"))
    _create(client, "vpn-de", article_markdown("VPN client update", body, language="de"))
    for language in ("de", "en"):
        hits = client.post(
            "/api/v1/search",
            json={"query": "VPN client update", "k": 2, "prefer_language": language},
        ).json()["hits"]
        assert [h["language"] for h in hits] == [language, "en" if language == "de" else "de"]
    refused = client.post("/api/v1/search", json={"query": "VPN", "prefer_language": "x" * 11})
    assert refused.status_code == 422
