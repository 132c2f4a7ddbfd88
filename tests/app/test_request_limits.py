"""Bounded cost per request: what /suggest reads is capped, and each key has a rate and a
queue on search and suggest (429 and 503 with Retry-After, in the one error shape)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from index.embedder import Vectors
from ingest.ticket_vectors import DEFAULT_READ_WORDS, leading_words
from tests.auth_helpers import authorize, bearer, factory_of
from tests.fakes import HashingEmbedder


class RecordingEmbedder(HashingEmbedder):
    """Remembers every text it was given; blocks on texts containing `hold` until released."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.release = threading.Event()
        self.holding = threading.Event()

    def _encode(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        if any("hold" in text for text in texts):
            self.holding.set()
            self.release.wait(10)
        return super()._encode(texts)


def _client(tmp_path: Path, embedder: HashingEmbedder, **limits: float) -> TestClient:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        _env_file=None,  # type: ignore[call-arg]
        **limits,  # type: ignore[arg-type]
    )
    return TestClient(create_app(settings, embedder=embedder))


@pytest.fixture
def recording() -> RecordingEmbedder:
    return RecordingEmbedder()


def test_leading_words_keeps_the_text_as_it_was() -> None:
    assert leading_words("a  b\nc d", 3) == "a  b\nc"
    assert leading_words("a b", 5) == "a b"
    assert leading_words("", 3) == ""


def test_suggest_reads_only_the_first_words_of_a_long_paste(
    tmp_path: Path, recording: RecordingEmbedder
) -> None:
    words = [f"w{i}" for i in range(8000)]
    body = {"title": "Drucker", "description": " ".join(words)[:50_000]}
    with _client(tmp_path, recording) as client:
        authorize(client)
        recording.texts.clear()
        assert client.post("/api/v1/suggest", json=body).status_code == 200
    read = " ".join(recording.texts)
    assert f"w{DEFAULT_READ_WORDS - 1} " in read + " "
    assert f"w{DEFAULT_READ_WORDS}" not in read.split()
    # Four passages of 180 words and the ticket as one question: never the 8,000 words.
    assert len(recording.texts) <= 1 + -(-DEFAULT_READ_WORDS // 180)


def test_a_key_over_its_rate_gets_429_and_other_keys_do_not(
    tmp_path: Path, recording: RecordingEmbedder
) -> None:
    with _client(tmp_path, recording, key_requests_per_minute=6, key_request_burst=2) as client:
        keys = authorize(client)
        agent = bearer(keys["agent"])
        search = {"query": "VPN"}
        codes = [
            client.post("/api/v1/search", json=search, headers=agent).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        refused = client.post("/api/v1/suggest", json={"title": "VPN"}, headers=agent)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "too_many_requests"
        other = bearer(keys["specialist"])
        assert client.post("/api/v1/search", json=search, headers=other).status_code == 200
        # Reads that cost nothing are not counted.
        assert client.get("/api/v1/articles", headers=agent).status_code == 200


def test_a_key_with_all_its_slots_busy_waits_then_gets_503(
    tmp_path: Path, recording: RecordingEmbedder
) -> None:
    with _client(tmp_path, recording, key_max_in_flight=1, key_queue_seconds=0.5) as client:
        keys = authorize(client)
        agent = bearer(keys["agent"])
        held: list[int] = []

        def slow_search() -> None:
            response = client.post("/api/v1/search", json={"query": "hold"}, headers=agent)
            held.append(response.status_code)

        first = threading.Thread(target=slow_search)
        first.start()
        try:
            assert recording.holding.wait(10)
            queued = client.post("/api/v1/search", json={"query": "VPN"}, headers=agent)
            assert queued.status_code == 503
            assert queued.json()["error"]["code"] == "overloaded"
            assert int(queued.headers["retry-after"]) >= 1
        finally:
            recording.release.set()
            first.join(10)
        assert held == [200]
        # The slot is free again once the slow request is done.
        assert (
            client.post("/api/v1/search", json={"query": "VPN"}, headers=agent).status_code == 200
        )


def test_the_pages_share_the_keys_limits(tmp_path: Path, recording: RecordingEmbedder) -> None:
    """Signed in, a person's searches spend their key's rate like the API's do."""
    from tests.web.helpers import browser, sign_in

    with _client(tmp_path, recording, key_requests_per_minute=6, key_request_burst=2) as client:
        keys = authorize(client)
        person = browser(client)
        assert sign_in(person, keys["agent"]).status_code == 303
        codes = [person.get("/search", params={"q": "VPN"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = person.get("/search", params={"q": "VPN"})
        assert "text/html" in refused.headers["content-type"]
        assert int(refused.headers["retry-after"]) >= 1


def test_no_free_database_connection_is_503_not_500(
    tmp_path: Path, recording: RecordingEmbedder
) -> None:
    """Under a load peak every pooled connection can be busy: the caller is asked to come
    back (503, Retry-After) in the one error shape instead of getting a 500."""
    limits = {"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout": 0.3}
    with _client(tmp_path, recording, **limits) as client:
        authorize(client)
        engine = factory_of(client).kw["bind"]
        with engine.connect():  # the pool's only connection, held
            response = client.get("/api/v1/articles")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "overloaded"
        assert int(response.headers["retry-after"]) >= 1
        assert client.get("/api/v1/articles").status_code == 200  # free again
