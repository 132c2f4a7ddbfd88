"""Publishing an article and pushing a ticket embed before their write transaction opens.

A transaction held open while the model runs holds a connection for as long, and (on
PostgreSQL) keeps every replica's change feed re-reading below it (ingest.index_sync).
The embedder here asks PostgreSQL itself, at the moment it is called, which sessions of
the database have a transaction open.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.main import create_app
from app.settings import Settings
from app.state import app_state
from index.embedder import Vectors
from tests.auth_helpers import authorize, bearer
from tests.factories import article_markdown
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.postgres

MARKER = "Zebrastreifenkalibrierung"  # in the written texts only, never in a charter or query

OPEN_TRANSACTIONS = text(
    "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
    "AND xact_start IS NOT NULL"
)


class TransactionProbe(HashingEmbedder):
    """Records, for every document encode of the marked texts, the open transactions."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database = create_engine(database_url, isolation_level="AUTOCOMMIT")
        self.seen: list[list[tuple[int, str]]] = []

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        if any(MARKER in t for t in texts):
            with self.database.connect() as connection:
                rows = connection.execute(OPEN_TRANSACTIONS).all()
            self.seen.append([(int(pid), str(state)) for pid, state in rows])
        return super().encode_documents(texts, show_progress=show_progress)


@pytest.fixture
def probe(postgres_database: str) -> Iterator[TransactionProbe]:
    embedder = TransactionProbe(postgres_database)
    yield embedder
    embedder.database.dispose()


def test_publish_and_ticket_push_encode_with_no_transaction_open(
    tmp_path: Path, postgres_database: str, probe: TransactionProbe
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=postgres_database,
        embedding_model="fake",
        index_refresh_seconds=0.0,
        routing_retrain_seconds=3600.0,  # the start's training only: it reads in a transaction
        connector_worker=False,  # its polls would be open transactions of their own
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings, embedder=probe)
    with TestClient(app, raise_server_exceptions=False) as client:
        keys = authorize(client)
        assert app_state(app).ready().router.wait_idle()
        body = f"## Lösung\n{MARKER} am Drucker neu starten."
        markdown = article_markdown("Drucker kalibrieren", body, team="workplace")
        assert client.post(
            "/api/v1/articles", json={"slug": "kal", "markdown": markdown}
        ).is_success
        version = "/api/v1/articles/kal/versions/1"
        assert client.post(f"{version}/submit").status_code == 200
        published = client.post(f"{version}/publish", headers=bearer(keys["reviewer"]))
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        ticket = {
            "id": "T-1",
            "source": "tool",
            "title": f"{MARKER} schlägt fehl",
            "description": "Der Drucker zeigt Streifen.",
            "resolution": "Neu kalibriert.",
            "team": "workplace",
        }
        assert client.post("/api/v1/tickets", json=ticket).status_code == 201
        hits = client.post("/api/v1/search", json={"query": "Drucker Streifen", "k": 5}).json()[
            "hits"
        ]
    assert {hit["id"] for hit in hits} == {"article:kal", "ticket:tool:T-1"}
    # One encode per write, and while each ran no session of the database had a
    # transaction open: not the request's, not a connection it kept checked out.
    assert probe.seen == [[], []]
