"""An app for webhook tests: the fake embedder, and no background worker, so the queue
holds exactly what the webhooks put there (delivery tests run the worker explicitly)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.state import app_state
from ingest.pipeline import ingest_articles
from tests.auth_helpers import authorize, factory_of
from tests.fakes import HashingEmbedder
from tests.paths import REPO_ROOT


@pytest.fixture
def hook_client(settings: Settings, fake_embedder: HashingEmbedder) -> Iterator[TestClient]:
    """No articles: every suggestion goes to the dispatcher, which is all most tests need."""
    # The deadline at its longest: these tests take the synchronous path whatever the load
    # (tests/connectors/test_deadline.py holds a suggestion back to cross it).
    quiet = settings.model_copy(update={"connector_worker": False, "webhook_deadline_seconds": 60})
    with TestClient(create_app(quiet, embedder=fake_embedder), raise_server_exceptions=False) as c:
        authorize(c)
        yield c


@pytest.fixture
def routed_client(hook_client: TestClient, fake_embedder: HashingEmbedder) -> TestClient:
    """The repository's articles too: their charters route from the first ticket on."""
    settings = app_state(hook_client.app).settings
    factory = factory_of(hook_client)
    ingest_articles(
        factory, fake_embedder, REPO_ROOT / "articles", max_words=settings.chunk_max_words
    )
    router = app_state(hook_client.app).ready().router
    # The lifespan's first training may still run (on PostgreSQL it holds the trainer
    # lease, and a retrain beside it is skipped): let it end, then train on the articles.
    assert router.wait_idle(120), "the start-up training did not end"
    assert router.retrain(factory, fake_embedder), router.status().last_reason
    return hook_client
