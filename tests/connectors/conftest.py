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
    """The repository's articles (charters route from the first ticket on), fake model."""
    quiet = settings.model_copy(update={"connector_worker": False})
    with TestClient(create_app(quiet, embedder=fake_embedder), raise_server_exceptions=False) as c:
        authorize(c)
        ingest_articles(
            factory_of(c), fake_embedder, REPO_ROOT / "articles", max_words=quiet.chunk_max_words
        )
        app_state(c.app).ready().router.retrain(factory_of(c), fake_embedder)
        yield c
