"""API keys for tests: one per role, issued straight into the database of a running app."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth import CLI_PRINCIPAL
from app.services.keys import create_key

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


def authorize(client: TestClient) -> dict[str, str]:
    """Issue the test keys; the client sends the admin key unless a test says otherwise."""
    app = app_of(client)
    keys = issue_test_keys(app.state.session_factory)
    app.state.test_keys = keys
    client.headers["Authorization"] = f"Bearer {keys['admin']}"
    return keys


def keys_of(client: TestClient) -> dict[str, str]:
    keys: dict[str, str] = app_of(client).state.test_keys
    return keys
