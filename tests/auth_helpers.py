"""API keys for tests: one per role, issued straight into the database of a running app."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth import CLI_PRINCIPAL
from app.services.keys import create_key
from app.state import app_state

# name -> (role, teams, company)
TEST_KEYS: dict[str, tuple[str, list[str], str | None]] = {
    "admin": ("admin", [], None),
    "reviewer": ("admin", [], None),
    "agent": ("agent", [], None),
    "specialist": ("specialist", ["network"], None),
    "network-reviewer": ("specialist", ["network"], None),
    "workplace-specialist": ("specialist", ["workplace"], None),
    "integration": ("integration", [], None),
    "contractor": ("contractor", [], "NetPartner GmbH"),
    "other-contractor": ("contractor", [], "Acme GmbH"),
}


def issue_test_keys(factory: sessionmaker[Session]) -> dict[str, str]:
    keys: dict[str, str] = {}
    with factory() as session, session.begin():
        for name, (role, teams, company) in TEST_KEYS.items():
            _, token = create_key(
                session, actor=CLI_PRINCIPAL, name=name, role=role, teams=teams, company=company
            )
            keys[name] = token
    return keys


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def app_of(client: TestClient) -> FastAPI:
    return cast(FastAPI, client.app)


def factory_of(client: TestClient) -> sessionmaker[Session]:
    """The database sessions of the app behind a started test client."""
    return app_state(client.app).ready().session_factory


def authorize(client: TestClient) -> dict[str, str]:
    """Issue the test keys; the client sends the admin key unless a test says otherwise."""
    app = app_of(client)
    keys = issue_test_keys(factory_of(client))
    app.state.test_keys = keys
    client.headers["Authorization"] = f"Bearer {keys['admin']}"
    return keys


def keys_of(client: TestClient) -> dict[str, str]:
    keys: dict[str, str] = app_of(client).state.test_keys
    return keys


def publish_article(
    client: TestClient,
    slug: str,
    markdown: str,
    *,
    author: str = "admin",
    reviewer: str = "reviewer",
    write: bool = True,
) -> dict[str, object]:
    """Write a version (unless written already), send it to review, have another key approve."""
    keys = keys_of(client)
    if write:
        written = client.put(
            f"/api/v1/articles/{slug}", json={"markdown": markdown}, headers=bearer(keys[author])
        )
        assert written.status_code in (200, 201), written.text
    number = client.get(f"/api/v1/articles/{slug}/versions", headers=bearer(keys[author])).json()[
        "versions"
    ][-1]["number"]
    base = f"/api/v1/articles/{slug}/versions/{number}"
    submitted = client.post(f"{base}/submit", headers=bearer(keys[author]))
    assert submitted.status_code == 200, submitted.text
    published = client.post(f"{base}/publish", headers=bearer(keys[reviewer]))
    assert published.status_code == 200, published.text
    body: dict[str, object] = published.json()
    return body
