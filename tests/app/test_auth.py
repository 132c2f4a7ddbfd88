"""API keys: required everywhere but /health, revocable at once, stored as digests only."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.auth import CLI_PRINCIPAL, PREFIX_LENGTH
from app.cli import cli
from app.main import create_app
from app.services.keys import revoke_key
from app.settings import Settings
from db.models import ApiKey
from tests.auth_helpers import authorize, bearer, factory_of, keys_of
from tests.factories import article_markdown, ticket
from tests.fakes import HashingEmbedder


def test_only_health_answers_without_a_key(client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    assert client.get("/api/v1/health", headers=anonymous).status_code == 200
    for method, path in [
        ("GET", "/api/v1/ready"),
        ("GET", "/api/v1/articles"),
        ("GET", "/api/v1/articles/x"),
        ("GET", "/api/v1/tickets/a/b"),
        ("POST", "/api/v1/search"),
        ("POST", "/api/v1/suggest"),
        ("POST", "/api/v1/tickets"),
        ("GET", "/api/v1/audit"),
    ]:
        response = client.request(method, path, headers=anonymous)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"


def test_a_revoked_key_stops_working_at_once(client: TestClient, api_keys: dict[str, str]) -> None:
    agent = bearer(api_keys["agent"])
    assert client.get("/api/v1/articles", headers=agent).status_code == 200
    with factory_of(client)() as session, session.begin():
        revoke_key(session, actor=CLI_PRINCIPAL, id_or_name="agent")
    response = client.get("/api/v1/articles", headers=agent)
    assert response.status_code == 401
    assert client.get("/api/v1/articles").status_code == 200  # other keys still work


def test_the_database_holds_no_recoverable_key(
    client: TestClient, api_keys: dict[str, str]
) -> None:
    with factory_of(client)() as session:
        rows = {row.name: row for row in session.scalars(select(ApiKey))}
    for name, key in api_keys.items():
        row = rows[name]
        stored = [str(getattr(row, column.key)) for column in ApiKey.__table__.columns]
        assert not any(key in value for value in stored)
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key.startswith(row.prefix) and len(row.prefix) < len(key) // 3


def test_a_wrong_key_and_the_wrong_scheme_are_refused(client: TestClient) -> None:
    for header in ("Bearer sw_" + "x" * 43, "Basic YWRtaW46YWRtaW4=", "Bearer", "sw_abc"):
        response = client.get("/api/v1/articles", headers={"Authorization": header})
        assert response.status_code == 401, header


@pytest.fixture
def strict_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        auth_failure_burst=3,
        auth_failure_refill_seconds=60,
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        authorize(client)
        yield client


def test_brute_force_is_slowed_and_logged(
    strict_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    guess = "sw_guessedguessedguessedguessedguessedguess"
    with caplog.at_level(logging.WARNING, logger="stellwerk.auth"):
        codes = [
            strict_client.get("/api/v1/articles", headers=bearer(guess)).status_code
            for _ in range(5)
        ]
    assert codes == [401, 401, 401, 429, 429]
    failures = [r.getMessage() for r in caplog.records if "authentication" in r.getMessage()]
    assert len(failures) == 5
    assert "testclient" in failures[0]
    assert "sw_guessedg..." in failures[0]
    assert all(guess not in message for message in failures)
    # A right key from the same address never pays for someone else's wrong ones.
    assert strict_client.get("/api/v1/articles").status_code == 200


def test_fresh_prefixes_do_not_open_fresh_buckets(strict_client: TestClient) -> None:
    """Guessing with a new prefix each time spends the address's one shared bucket."""
    guesses = [f"sw_{i:08d}" + "x" * 40 for i in range(5)]
    codes = [strict_client.get("/api/v1/articles", headers=bearer(g)).status_code for g in guesses]
    assert codes == [401, 401, 401, 429, 429]
    # Missing keys count in the same bucket: still refused, while every valid key passes.
    assert strict_client.get("/api/v1/articles", headers={"Authorization": ""}).status_code == 429
    for key in keys_of(strict_client).values():
        assert strict_client.get("/api/v1/articles", headers=bearer(key)).status_code == 200


def test_wrong_secrets_for_a_known_prefix_block_only_that_prefix(
    strict_client: TestClient,
) -> None:
    """Someone guessing the secret behind a known prefix (prefixes appear in logs) is slowed;
    the key's holder behind the same proxy, and every other key's holder, are not."""
    keys = keys_of(strict_client)
    target = keys["agent"]
    wrong = target[:PREFIX_LENGTH] + "y" * (len(target) - PREFIX_LENGTH)
    codes = [
        strict_client.get("/api/v1/articles", headers=bearer(wrong)).status_code for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert strict_client.get("/api/v1/articles", headers=bearer(target)).status_code == 200
    other = keys["specialist"]
    wrong_other = other[:PREFIX_LENGTH] + "y" * (len(other) - PREFIX_LENGTH)
    assert strict_client.get("/api/v1/articles", headers=bearer(wrong_other)).status_code == 401


def test_a_revoked_key_spends_its_own_bucket(strict_client: TestClient) -> None:
    keys = keys_of(strict_client)
    with factory_of(strict_client)() as session:
        revoke_key(session, actor=CLI_PRINCIPAL, id_or_name="contractor")
        session.commit()
    revoked = bearer(keys["contractor"])
    codes = [strict_client.get("/api/v1/articles", headers=revoked).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert strict_client.get("/api/v1/articles", headers=bearer(keys["agent"])).status_code == 200


def test_roles_guard_the_writes(client: TestClient, api_keys: dict[str, str]) -> None:
    markdown = article_markdown("VPN", "## Fix\n\nRestart.", team="network")
    agent, specialist = bearer(api_keys["agent"]), bearer(api_keys["specialist"])
    outsider = bearer(api_keys["workplace-specialist"])
    body = {"slug": "vpn", "markdown": markdown}
    assert client.post("/api/v1/articles", json=body, headers=agent).status_code == 403
    assert client.post("/api/v1/articles", json=body, headers=outsider).status_code == 403
    assert client.post("/api/v1/articles", json=body, headers=specialist).status_code == 201
    record = ticket("T1", "VPN drops", "again")
    assert client.post("/api/v1/tickets", json=record, headers=agent).status_code == 403
    integration = bearer(api_keys["integration"])
    assert client.post("/api/v1/tickets", json=record, headers=integration).status_code == 201
    contractor = bearer(api_keys["contractor"])
    hidden = client.get("/api/v1/tickets/test/T1", headers=contractor)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "ticket_not_found"


def test_writes_are_audited_for_admins(client: TestClient, api_keys: dict[str, str]) -> None:
    markdown = article_markdown("VPN", "## Fix\n\nRestart.", team="network")
    specialist = bearer(api_keys["specialist"])
    client.post("/api/v1/articles", json={"slug": "vpn", "markdown": markdown}, headers=specialist)
    client.post("/api/v1/tickets", json=ticket("T1", "VPN", "drops"))
    entries = client.get("/api/v1/audit").json()["entries"]
    assert [(e["actor"], e["action"], e["target"]) for e in entries[:2]] == [
        ("admin", "ticket.create", "ticket:test:T1"),
        ("specialist", "article.create", "article:vpn"),
    ]
    assert client.get("/api/v1/audit", headers=specialist).status_code == 403


def test_cli_creates_lists_and_revokes_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STELLWERK_DATABASE_URL", raising=False)
    runner = CliRunner()
    created = runner.invoke(
        cli, ["keys", "create", "--role", "specialist", "--team", "network", "--name", "Ann"]
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("sw_") and "\n" not in key
    listed = runner.invoke(cli, ["keys", "list"])
    assert "Ann\tspecialist\tnetwork" in listed.stdout
    assert key not in listed.stdout
    refused = runner.invoke(cli, ["keys", "create", "--role", "contractor", "--name", "X"])
    assert refused.exit_code == 1
    assert "--company" in refused.output
    revoked = runner.invoke(cli, ["keys", "revoke", "Ann"])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(cli, ["keys", "list"]).stdout
