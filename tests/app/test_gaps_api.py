"""GET /api/v1/gaps and POST /gaps/{key}/draft with the real model on a small knowledge base,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth import Principal
from app.main import create_app
from app.services.reviews import pending_versions
from app.settings import Settings
from index.embedder import SentenceTransformerEmbedder
from ingest.pipeline import ingest_articles
from tests.auth_helpers import authorize, bearer, factory_of
from tests.factories import ticket, write_article

ARTICLES = {
    "vpn-drops": ("VPN drops every ten minutes at home", "Renew the VPN certificate."),
    "printer-queue": ("Printer queue is stuck", "Restart the print spooler service."),
    "password-reset": ("Reset a forgotten password", "Use the self-service portal."),
    "outlook-start": ("Outlook does not start", "Start Outlook in safe mode, remove add-ins."),
    "disk-full": ("Hard disk is full", "Run disk cleanup and empty the downloads folder."),
}
COVERED = [
    ("c1", "VPN disconnects every few minutes when working from home", "network"),
    ("c2", "VPN connection keeps dropping at home office", "network"),
    ("c3", "Print jobs stay in the printer queue", "workplace"),
    ("c4", "Printer queue hangs, nothing prints", "workplace"),
    ("c5", "I forgot my password and cannot log in", "workplace"),
    ("c6", "Outlook crashes at start", "workplace"),
    ("c7", "C drive has no free space left", "workplace"),
]
PROJECTOR = [
    ("p1", "Projector in meeting room shows no signal over HDMI", "Replace the HDMI cable."),
    (
        "p2",
        "Beamer in the conference room says no HDMI signal",
        "Switch the beamer input to HDMI 2.",
    ),
    (
        "p3",
        "Meeting room projector: no picture from the laptop via HDMI",
        "Reseat the HDMI adapter.",
    ),
]


@pytest.fixture
def kb_client(
    tmp_path: Path, database_url: str, real_embedder: SentenceTransformerEmbedder
) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        embedding_model="multilingual-e5-small",
        index_refresh_seconds=0.0,
        routing_retrain_seconds=0.0,
        _env_file=None,  # type: ignore[call-arg]
    )
    folder = tmp_path / "kb"
    for slug, (title, fix) in ARTICLES.items():
        write_article(folder, slug, title, f"## Fix\n\n{fix}", team="workplace", language="en")
    with TestClient(create_app(settings, embedder=real_embedder)) as client:
        keys = authorize(client)
        ingest_articles(factory_of(client), real_embedder, folder, max_words=180)
        pushed = [ticket(i, title, "", team=team) for i, title, team in COVERED]
        pushed += [
            ticket(i, title, "", team="workplace", resolution=fix) for i, title, fix in PROJECTOR
        ]
        for body in pushed:
            response = client.post("/api/v1/tickets", json=body, headers=bearer(keys["admin"]))
            assert response.status_code == 201, response.text
        client.headers.update(bearer(keys["admin"]))
        yield client


def _gaps(client: TestClient, key: str = "admin", **params: Any) -> dict[str, Any]:
    keys = client.app.state.test_keys  # type: ignore[attr-defined]
    response = client.get("/api/v1/gaps", params=params, headers=bearer(keys[key]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.slow
def test_the_uncovered_topic_is_one_gap_and_drafts_into_its_review_queue(
    kb_client: TestClient,
) -> None:
    body = _gaps(kb_client)
    assert body["candidates"] == len(COVERED) + len(PROJECTOR)
    projector = {f"ticket:test:{i}" for i, _, _ in PROJECTOR}
    covered = {f"ticket:test:{i}" for i, _, _ in COVERED}
    assert body["gaps"], body
    top = body["gaps"][0]
    assert set(top["members"]) == projector
    assert not any(set(gap["members"]) & covered for gap in body["gaps"])
    assert top["team"] == "workplace" and top["languages"] == [{"name": "en", "count": 3}]
    assert {"hdmi"} <= set(top["key_terms"])
    assert top["representatives"][0]["resolution"]
    # Drafting: the agent may not, a specialist of another team may not, the owner may.
    keys = kb_client.app.state.test_keys  # type: ignore[attr-defined]
    path = f"/api/v1/gaps/{top['key']}/draft"
    assert kb_client.post(path, headers=bearer(keys["agent"])).status_code == 403
    assert kb_client.post(path, headers=bearer(keys["specialist"])).status_code == 403
    drafted = kb_client.post(path, headers=bearer(keys["workplace-specialist"]))
    assert drafted.status_code == 201, drafted.text
    draft = drafted.json()
    assert draft["state"] == "in_review" and draft["team"] == "workplace"
    assert set(draft["cited"]) == projector
    article = kb_client.get(f"/api/v1/articles/{draft['slug']}").json()
    assert article["status"] == "in_review"
    owner = Principal(None, "w", "specialist", ("workplace",))
    with factory_of(kb_client)() as session:
        queue = pending_versions(session, principal=owner)
    assert draft["slug"] in {pending.slug for pending in queue}
    again = kb_client.post(path, headers=bearer(keys["workplace-specialist"]))
    assert again.status_code == 409
    unknown = kb_client.post("/api/v1/gaps/0000000000000000/draft")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "gap_not_found"


@pytest.mark.slow
def test_a_range_without_the_tickets_has_no_gaps_and_team_filters(kb_client: TestClient) -> None:
    past = _gaps(kb_client, **{"from": "2020-01-01", "to": "2020-01-31"})
    assert past["candidates"] == 0 and past["gaps"] == [] and past["cut"] is None
    network = _gaps(kb_client, team="network")
    assert network["candidates"] == 2
    bad = kb_client.get("/api/v1/gaps", params={"from": "2026-05-01", "to": "2026-01-01"})
    assert bad.status_code == 422 and bad.json()["error"]["status"] == 422


@pytest.mark.slow
def test_the_weeks_digest_lists_the_gap_as_new(kb_client: TestClient) -> None:
    """The team digest mines its week: the projector tickets pushed today are its new gap."""
    today = date.today().isoformat()
    top = _gaps(kb_client, **{"from": today, "to": today})["gaps"][0]
    answer = kb_client.get("/api/v1/digests/team/workplace", params={"week": today})
    assert answer.status_code == 200, answer.text
    new = answer.json()["new_gaps"]
    assert [(g["title"], g["size"]) for g in new][:1] == [(top["proposed_title"], 3)]
    assert new[0]["link"] == f"/dashboard#gap-{top['key']}"
    last_week = (date.today() - timedelta(days=7)).isoformat()
    before = kb_client.get("/api/v1/digests/team/workplace", params={"week": last_week})
    assert before.json()["new_gaps"] == []
    other = kb_client.get("/api/v1/digests/team/network", params={"week": today})
    assert other.json()["new_gaps"] == []  # the gap is workplace's
