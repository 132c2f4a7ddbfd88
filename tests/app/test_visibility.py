"""The leak matrix: every role x every read path x every audience and state, plus tickets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from db.kpi_rollups import rebuild
from db.models import EscalationOutcome, Feedback, SuggestionEvent
from index.embedder import Embedder
from ingest.pipeline import ingest_articles
from tests.auth_helpers import authorize, bearer, factory_of, keys_of
from tests.factories import ticket, write_article
from tests.fakes import HashingEmbedder
from tests.visibility_world import (
    CHARTERS,
    PUBLISHED,
    READABLE,
    ROLES,
    SEARCHABLE,
    STAFF,
    UNPUBLISHED,
    build_world,
)


@pytest.fixture
def world(client: TestClient, fake_embedder: HashingEmbedder, tmp_path: Path) -> TestClient:
    return build_world(client, fake_embedder, tmp_path)


def _as(client: TestClient, role: str) -> dict[str, str]:
    return bearer(keys_of(client)[role])


def _slugs(hits: list[dict[str, Any]]) -> set[str]:
    return {h["id"].removeprefix("article:") for h in hits if h["kind"] == "article"}


@pytest.mark.parametrize("role", ROLES)
def test_search_returns_exactly_what_the_role_may_see(world: TestClient, role: str) -> None:
    hits = world.post(
        "/api/v1/search", json={"query": "router reboot", "k": 50}, headers=_as(world, role)
    ).json()["hits"]
    assert _slugs(hits) == SEARCHABLE[role]
    tickets = [h["id"] for h in hits if h["kind"] == "ticket"]
    assert tickets == (["ticket:test:T1"] if role in STAFF else [])


@pytest.mark.parametrize("role", ROLES)
def test_article_reads_and_lists(world: TestClient, role: str) -> None:
    headers = _as(world, role)
    for slug in {*PUBLISHED, *UNPUBLISHED, *CHARTERS}:
        response = world.get(f"/api/v1/articles/{slug}", headers=headers)
        expected = 200 if slug in READABLE[role] else 404  # 404, never 403: no existence leak
        assert response.status_code == expected, (role, slug)
    listed = world.get("/api/v1/articles", headers=headers).json()
    assert {a["slug"] for a in listed["articles"]} == READABLE[role]
    assert listed["total"] == len(READABLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_teams_tickets_and_stats(world: TestClient, role: str) -> None:
    headers = _as(world, role)
    teams = world.get("/api/v1/teams", headers=headers).json()["teams"]
    assert {t["slug"] for t in teams} == SEARCHABLE[role] & set(CHARTERS)
    read = world.get("/api/v1/tickets/test/T1", headers=headers)
    assert read.status_code == (200 if role in STAFF else 404)
    stats = world.get("/api/v1/stats", headers=headers).json()
    assert stats["articles"] == len(SEARCHABLE[role])
    assert stats["tickets"] == (1 if role in STAFF else 0)


@pytest.mark.parametrize("role", ROLES)
def test_suggest_solutions_and_evidence(world: TestClient, role: str) -> None:
    body = world.post(
        "/api/v1/suggest",
        json={"title": "Router reboot", "description": "router down"},
        headers=_as(world, role),
    ).json()
    solutions = body["solutions"]
    allowed = {f"article:{s}" for s in SEARCHABLE[role] - set(CHARTERS)}
    if role in STAFF:
        allowed.add("ticket:test:T1")
    assert {s["id"] for s in solutions} <= allowed
    assert len(solutions) == min(5, len(allowed))
    evidence = body["evidence"]
    if role not in STAFF:
        # No team outside the caller's catalogue (network's charter is internal).
        team = body["team"]
        named = {body["escalation"]["team"]} - {None}
        if team is not None:
            named |= {team["name"], *(t["name"] for t in team["alternatives"])}
        assert named <= {"workplace"}, body
        assert evidence["similar_tickets"] == []
        assert {line["team"] for line in evidence["charter_lines"]} <= {"workplace"}
        guideline = body["escalation"].get("guideline")
        assert guideline is None or guideline["slug"] == "team-workplace"


OWNERS_ONLY = {"admin": 200, "specialist": 200, "workplace-specialist": 403}
ACCESS: dict[str, dict[str, int]] = {
    "/api/v1/audit": {"admin": 200},
    "/api/v1/tasks": {"admin": 200, "specialist": 200, "workplace-specialist": 200},
    "/api/v1/links": dict.fromkeys(STAFF, 200),
    "/api/v1/escalations": dict.fromkeys(STAFF, 200),
    "/api/v1/ready": dict.fromkeys(ROLES, 200),
    "/api/v1/kpis": dict.fromkeys(ROLES, 200),
    "/api/v1/kpis/export": dict.fromkeys(ROLES, 200),
    # Versions hold drafts: owners only; others learn of no hidden article (404).
    "/api/v1/articles/int-pub/versions": {**dict.fromkeys(STAFF, 403), **OWNERS_ONLY},
    "/api/v1/articles/pub-pub/versions": {**dict.fromkeys(STAFF, 403), **OWNERS_ONLY},
    "/api/v1/articles/int-draft/versions": {"admin": 200, "specialist": 200},
}


@pytest.mark.parametrize("role", ROLES)
def test_the_other_read_endpoints_by_role(world: TestClient, role: str) -> None:
    for path, allowed in ACCESS.items():
        hidden = 404 if "/articles/" in path else 403
        expected = allowed.get(role, hidden)
        assert world.get(path, headers=_as(world, role)).status_code == expected, (role, path)


def test_filters_apply_before_the_cut_to_k(
    client: TestClient, fake_embedder: HashingEmbedder, tmp_path: Path
) -> None:
    """Five internal articles are nearer than any public one: a post-filter would give a
    contractor nothing (or fewer than k); the filter inside retrieval gives k."""
    folder = tmp_path / "kb"
    for number in range(5):
        write_article(
            folder,
            f"internal-{number}",
            "Printer spooler jam",
            "## Fix\n\nPrinter spooler jam printer spooler jam.",
            audience="internal",
        )
    for number in range(4):
        write_article(
            folder,
            f"public-{number}",
            f"Public note {number}",
            f"## Fix\n\nPrinter advice {number} for everybody.",
            audience="public",
        )
    ingest_articles(factory_of(client), fake_embedder, folder, max_words=180)
    query = {"query": "printer spooler jam", "k": 3}
    staff = client.post("/api/v1/search", json=query, headers=_as(client, "agent")).json()
    assert all(h["id"].startswith("article:internal-") for h in staff["hits"])
    contractor = client.post(
        "/api/v1/search", json=query, headers=_as(client, "contractor")
    ).json()["hits"]
    assert len(contractor) == 3
    assert all(h["id"].startswith("article:public-") for h in contractor)
    suggested = client.post(
        "/api/v1/suggest",
        json={"title": "printer spooler jam"},
        headers=_as(client, "contractor"),
    ).json()["solutions"]
    assert len(suggested) == 4
    assert all(s["id"].startswith("article:public-") for s in suggested)


@pytest.mark.slow
def test_contractor_search_through_the_real_model(tmp_path: Path, real_embedder: Embedder) -> None:
    """The same guarantee with the bundled multilingual model, real FAISS and SQLite."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        embedding_model="multilingual-e5-small",
        index_refresh_seconds=0.0,
        _env_file=None,  # type: ignore[call-arg]
    )
    folder = tmp_path / "kb"
    for number in range(4):
        write_article(
            folder,
            f"internal-{number}",
            f"VPN drops every ten minutes at home ({number})",
            "## Fix\n\nThe VPN drops every ten minutes at home: internal workaround.",
            audience="internal",
        )
    write_article(
        folder,
        "public-vpn",
        "Printer and VPN tips",
        "## Fix\n\nSome general hints for laptops.",
        audience="public",
    )
    write_article(
        folder,
        "partner-vpn",
        "VPN for partners",
        "## Fix\n\nPartner laptops: reconnect the VPN tunnel.",
        audience="partners",
        companies=["NetPartner GmbH"],
    )
    with TestClient(create_app(settings, embedder=real_embedder)) as client:
        keys = authorize(client)
        ingest_articles(factory_of(client), real_embedder, folder, max_words=180)
        query = {"query": "VPN drops every ten minutes at home", "k": 2}
        staff = client.post("/api/v1/search", json=query, headers=bearer(keys["agent"]))
        assert all(h["id"].startswith("article:internal-") for h in staff.json()["hits"])
        hits = client.post("/api/v1/search", json=query, headers=bearer(keys["contractor"])).json()[
            "hits"
        ]
        assert {h["id"] for h in hits} == {"article:public-vpn", "article:partner-vpn"}
        other = client.post(
            "/api/v1/search", json=query, headers=bearer(keys["other-contractor"])
        ).json()["hits"]
        assert [h["id"] for h in other] == ["article:public-vpn"]


@pytest.mark.parametrize("role", ROLES)
def test_kpis_count_only_the_callers_firm(world: TestClient, role: str) -> None:
    for asker, number in (("admin", "1"), ("contractor", "2"), ("other-contractor", "3")):
        asked = world.post(
            "/api/v1/suggest",
            json={"title": "Router reboot", "ticket_source": "t", "ticket_id": number},
            headers=_as(world, asker),
        )
        assert asked.status_code == 200, asked.text
    figures = world.get("/api/v1/kpis", headers=_as(world, role))
    assert figures.status_code == 200, figures.text
    body = figures.json()
    counted = sum(row["suggestions"] for row in body["suggestions"])
    assert counted == (3 if role in STAFF else 1)
    assert body["scope"] == ("all" if role in STAFF else "firm")
    assert (body["link_rate"] is None) == (role not in STAFF)
    if role not in STAFF:
        # Only the firm's own suggestion, so no team outside its catalogue either.
        assert {row["team"] for row in body["suggestions"]} <= {"workplace", None}


def _handover_world(world: TestClient) -> None:
    """Ticket t:1 escalated to network, moved on to workplace (NetPartner's team); first
    level marked the article shared with NetPartner not helpful; both sides rated it."""
    with factory_of(world)() as session, session.begin():
        session.add(
            SuggestionEvent(
                channel="api", actor="agent", role="agent", ticket_source="t", ticket_id="1",
                team="workplace", confidence=0.7, action="escalate", escalation_team="workplace",
            )
        )  # fmt: skip
        session.add(
            EscalationOutcome(
                ticket_source="t", ticket_id="1", suggested_team="network", first_team="network",
                final_team="workplace", actor="agent",
            )
        )  # fmt: skip
        session.add(
            Feedback(target="article:part-net", team="network", context="article", helpful=False,
                     actor="agent")
        )  # fmt: skip
        session.flush()
        rebuild(session)  # rows added directly: the rollups as an upgrade fills them
    for who, aspect in (("agent", "answer"), ("contractor", "clarity")):
        rated = world.post(
            "/api/v1/pulses",
            json={"ticket_source": "t", "ticket_id": "1", "aspect": aspect, "rating": 4},
            headers=_as(world, who),
        )
        assert rated.status_code == 201, rated.text


@pytest.mark.parametrize("role", ROLES)
def test_firm_figures_training_pulses_and_digests_by_role(world: TestClient, role: str) -> None:
    _handover_world(world)
    sees_firm = role != "other-contractor"
    headers = _as(world, role)
    firms = world.get("/api/v1/kpis", headers=headers).json()["firms"]
    assert [(r["firm"], r["escalations"], r["reassigned"], r["feedback"]) for r in firms] == (
        [("NetPartner GmbH", 1, 1, 1)] if sees_firm else []
    )
    topics = world.get("/api/v1/training", headers=headers).json()["firms"]
    assert [(t["firm"], t["kind"]) for t in topics] == (
        [("NetPartner GmbH", "firm_not_helpful"), ("NetPartner GmbH", "firm_reassigned")]
        if sees_firm
        else []
    )
    pulses = world.get("/api/v1/pulses", headers=headers).json()["figures"]
    assert sorted((p["side"], p["firm"]) for p in pulses) == (
        [("contractor", "NetPartner GmbH"), ("first_level", None)] if sees_firm else []
    )
    firm_digest = world.get("/api/v1/digests/firm/NetPartner GmbH", headers=headers)
    assert firm_digest.status_code == (200 if sees_firm else 404)
    team_digest = world.get("/api/v1/digests/team/workplace", headers=headers)
    assert team_digest.status_code == (200 if role in STAFF else 403)
    rate = {"ticket_source": "t", "ticket_id": "1", "aspect": "documentation", "rating": 2}
    rated = world.post("/api/v1/pulses", json=rate, headers=headers)
    # Only a contractor's side rates documentation; another firm's handover looks absent.
    expected = {"admin": 403, "integration": 403, "contractor": 201, "other-contractor": 404}
    assert rated.status_code == expected.get(role, 422), rated.text


@pytest.mark.parametrize("role", ROLES)
def test_gaps_are_built_only_from_what_the_caller_may_see(world: TestClient, role: str) -> None:
    """Staff mine every ticket and search; a contractor only its own firm's searches, so
    neither the tickets nor another firm's searches reach it, not even as a count."""
    for number in range(3):
        pushed = world.post(
            "/api/v1/tickets",
            json=ticket(f"B{number}", "Beamer flackert im Besprechungsraum", "", team="workplace"),
        )
        assert pushed.status_code == 201, pushed.text
    searches = {"contractor": "netpartner tunnel kaputt", "other-contractor": "acme lizenz weg"}
    for asker, text in searches.items():
        for _ in range(2):
            asked = world.post("/api/v1/search", json={"query": text}, headers=_as(world, asker))
            assert asked.status_code == 200, asked.text
    response = world.get("/api/v1/gaps", headers=_as(world, role))
    assert response.status_code == 200, response.text
    body = response.json()
    members = {ref for gap in body["gaps"] for ref in gap["members"]}
    shown = {m["title"] for gap in body["gaps"] for m in gap["representatives"]}
    if role in STAFF:
        assert body["candidates"] == 4 + 4  # T1 and three tickets, four searches
        return
    assert body["candidates"] == 2  # its own two searches, nothing else
    assert not any(ref.startswith("ticket:") for ref in members)
    assert shown <= {searches[role]}
    # A gap of tickets answers a contractor exactly as a key that never existed.
    staff = world.get("/api/v1/gaps", headers=_as(world, "admin")).json()["gaps"]
    of_tickets = [g["key"] for g in staff if any(m.startswith("ticket:") for m in g["members"])]
    assert of_tickets
    for key in [*of_tickets, "0" * 16]:
        hidden = world.post(f"/api/v1/gaps/{key}/draft", headers=_as(world, role))
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "gap_not_found"
