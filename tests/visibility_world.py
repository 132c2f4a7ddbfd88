"""The leak matrix's world: articles of every audience and state, charters, one ticket.

Shared by the API's matrix (tests/app/test_visibility.py) and the pages' one
(tests/web/test_page_matrix.py), so both check the same expectations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ingest.pipeline import ingest_articles
from tests.auth_helpers import factory_of
from tests.factories import ticket, write_article
from tests.fakes import HashingEmbedder

STAFF = ("admin", "agent", "specialist", "workplace-specialist", "integration")
ROLES = (*STAFF, "contractor", "other-contractor")
PUBLISHED: dict[str, dict[str, Any]] = {
    "int-pub": {"audience": "internal"},
    "part-all": {"audience": "partners"},
    "part-net": {"audience": "partners", "companies": ["NetPartner GmbH"]},
    "part-acme": {"audience": "partners", "companies": ["acme gmbh", "Other AG"]},
    "pub-pub": {"audience": "public"},
}
UNPUBLISHED: dict[str, dict[str, Any]] = {
    "int-draft": {"audience": "internal", "status": "draft"},
    "pub-draft": {"audience": "public", "status": "draft"},
    "pub-review": {"audience": "public", "status": "in_review"},
    "pub-archived": {"audience": "public", "status": "archived"},
}
CHARTERS: dict[str, dict[str, Any]] = {
    "team-network": {"audience": "internal", "team": "network"},
    # NetPartner works for the workplace team: its escalations, pulses and digest are its own.
    "team-workplace": {"audience": "public", "team": "workplace", "contractor": "NetPartner GmbH"},
}
# What each role may find in search (published, in its audience) and read (plus drafts).
SEARCHABLE = {
    **{role: {*PUBLISHED, *CHARTERS} for role in STAFF},
    "contractor": {"part-all", "part-net", "pub-pub", "team-workplace"},
    "other-contractor": {"part-all", "part-acme", "pub-pub", "team-workplace"},
}
READABLE = {
    **SEARCHABLE,
    "admin": {*PUBLISHED, *CHARTERS, *UNPUBLISHED},
    "specialist": {*PUBLISHED, *CHARTERS, *UNPUBLISHED},  # the network team owns them all
}


def build_world(client: TestClient, fake_embedder: HashingEmbedder, tmp_path: Path) -> TestClient:
    folder = tmp_path / "kb"
    for slug, meta in {**PUBLISHED, **UNPUBLISHED}.items():
        write_article(
            folder, slug, f"Router {slug}", f"## Fix\n\nRouter reboot for {slug}.", **meta
        )
    for slug, meta in CHARTERS.items():
        team = str(meta["team"])
        write_article(
            folder,
            slug,
            f"Team {team}",
            "## Charter\n\nRouter things.\n\n## Escalation criteria\n\n- router down",
            kind="team",
            **meta,
        )
    ingest_articles(factory_of(client), fake_embedder, folder, max_words=180)
    response = client.post(
        "/api/v1/tickets", json=ticket("T1", "Router reboot", "router down", team="network")
    )
    assert response.status_code == 201
    return client
