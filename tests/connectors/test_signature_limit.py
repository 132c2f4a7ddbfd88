"""A flood of bad webhook signatures spends the address's failed-authentication budget (the
one wrong API keys spend): once it is gone, 429 with Retry-After; a right signature from
the same address still passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from app.settings import Settings
from db.models import InboundDelivery
from tests.auth_helpers import authorize, factory_of
from tests.connectors.helpers import add, payload, post
from tests.fakes import HashingEmbedder


@pytest.fixture
def strict_client(settings: Settings, fake_embedder: HashingEmbedder) -> Iterator[TestClient]:
    strict = settings.model_copy(
        update={
            "connector_worker": False,
            "webhook_deadline_seconds": 60,
            "auth_failure_burst": 3,
            "auth_failure_refill_seconds": 3600,
        }
    )
    with TestClient(create_app(strict, embedder=fake_embedder), raise_server_exceptions=False) as c:
        yield c


def test_bad_signatures_get_429_once_the_budget_is_spent(strict_client: TestClient) -> None:
    add(strict_client, "zammad", "zammad")
    data = payload("zammad_open")
    statuses = [
        post(strict_client, "zammad", "zammad", data, secret="guess").status_code for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    refused = post(strict_client, "zammad", "zammad", data, secret="guess")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    error = refused.json()["error"]
    assert (error["code"], error["status"]) == ("too_many_requests", 429)
    with factory_of(strict_client)() as session:
        assert session.scalar(select(func.count()).select_from(InboundDelivery)) == 0
    # The tool itself, signing right from the same address, is never locked out.
    assert post(strict_client, "zammad", "zammad", data).json()["status"] == "suggested"


def test_signature_failures_and_wrong_keys_share_one_budget(strict_client: TestClient) -> None:
    authorize(strict_client)
    add(strict_client, "jira", "jira")
    for _ in range(3):
        post(strict_client, "jira", "jira", payload("jira_created"), secret="guess")
    wrong_key = strict_client.get(
        "/api/v1/connectors", headers={"Authorization": "Bearer sk_wrong_key_0123456789abcdef"}
    )
    assert wrong_key.status_code == 429
