"""Probes for load balancers: liveness and readiness without a key, and without details."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.state import app_state
from tests.fakes import HashingEmbedder


def test_readiness_answers_200_without_a_key_and_says_nothing_more(client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    response = client.get("/api/v1/health/ready", headers=anonymous)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.get("/api/v1/health", headers=anonymous).status_code == 200
    # The detailed readiness (model, size) still needs a key.
    assert client.get("/api/v1/ready", headers=anonymous).status_code == 401


def test_readiness_is_503_before_the_lifespan_loaded_the_index(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, embedding_model="fake", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, embedder=HashingEmbedder())
    test_client = TestClient(app, raise_server_exceptions=False)  # no `with`: no lifespan
    assert app_state(app).runtime is None
    response = test_client.get("/api/v1/health/ready")
    assert response.status_code == 503
    assert response.json()["error"]["details"] == []
    # Alive all the same: liveness does not depend on the runtime.
    assert test_client.get("/api/v1/health").status_code == 200
    with test_client:
        assert test_client.get("/api/v1/health/ready").status_code == 200
    assert test_client.get("/api/v1/health/ready").status_code == 503  # after shutdown


def test_readiness_is_503_when_the_database_does_not_answer(client: TestClient) -> None:
    runtime = app_state(client.app).ready()

    def broken() -> None:
        raise ConnectionError("database down")

    state = app_state(client.app)
    state.runtime = replace(runtime, session_factory=broken)  # type: ignore[arg-type]
    try:
        response = client.get("/api/v1/health/ready")
    finally:
        state.runtime = runtime
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "Not ready."
