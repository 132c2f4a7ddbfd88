"""Every error, whatever its source, has the one shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import StellwerkError
from app.main import create_app
from app.services import search as search_service
from app.settings import Settings
from tests.auth_helpers import authorize
from tests.fakes import HashingEmbedder


def _assert_shape(body: dict[str, Any], status: int, code: str) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "status", "details"}
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)


@pytest.fixture
def small_client(tmp_path: Path) -> Any:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        max_body_bytes=2048,
        auth_failure_burst=2,
        auth_failure_refill_seconds=60,
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(
        create_app(settings, embedder=HashingEmbedder()), raise_server_exceptions=False
    ) as client:
        authorize(client)
        yield client


def test_400_from_our_errors_and_from_starlette_has_the_one_shape(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, embedder=HashingEmbedder())

    def ours() -> None:
        raise StellwerkError("The request cannot be processed.")

    def starlette() -> None:
        raise StarletteHTTPException(400, "Malformed request.")

    # Under the API's prefix: other paths are pages, whose errors are HTML (tests/web).
    app.add_api_route("/api/v1/ours", ours)
    app.add_api_route("/api/v1/starlette", starlette)
    with TestClient(app) as client:
        for path in ("/api/v1/ours", "/api/v1/starlette"):
            response = client.get(path)
            assert response.status_code == 400
            _assert_shape(response.json(), 400, "bad_request")


def test_401_without_a_key(small_client: TestClient) -> None:
    response = small_client.get("/api/v1/articles", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    _assert_shape(response.json(), 401, "unauthorized")


def test_403_for_a_role_that_may_not(small_client: TestClient) -> None:
    from tests.auth_helpers import bearer, keys_of

    response = small_client.get("/api/v1/audit", headers=bearer(keys_of(small_client)["agent"]))
    assert response.status_code == 403
    _assert_shape(response.json(), 403, "forbidden")


def test_429_after_repeated_failures(small_client: TestClient) -> None:
    wrong = {"Authorization": "Bearer sw_wrong"}
    for _ in range(2):
        small_client.get("/api/v1/articles", headers=wrong)
    response = small_client.get("/api/v1/articles", headers=wrong)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    _assert_shape(response.json(), 429, "too_many_requests")


def test_404_unknown_article(small_client: TestClient) -> None:
    response = small_client.get("/api/v1/articles/nope")
    assert response.status_code == 404
    _assert_shape(response.json(), 404, "article_not_found")


def test_404_unknown_route(small_client: TestClient) -> None:
    response = small_client.get("/api/v1/nothing-here")
    _assert_shape(response.json(), 404, "not_found")


def test_405_wrong_method(small_client: TestClient) -> None:
    response = small_client.get("/api/v1/search")
    _assert_shape(response.json(), 405, "method_not_allowed")


def test_413_by_content_length(small_client: TestClient) -> None:
    response = small_client.post("/api/v1/search", json={"query": "x" * 5000})
    assert response.status_code == 413
    _assert_shape(response.json(), 413, "payload_too_large")


def test_413_while_streaming_without_length(small_client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1000

    response = small_client.post(
        "/api/v1/search", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    _assert_shape(response.json(), 413, "payload_too_large")


def test_422_names_the_field(small_client: TestClient) -> None:
    response = small_client.post("/api/v1/search", json={"query": "", "k": 0})
    assert response.status_code == 422
    body = response.json()
    _assert_shape(body, 422, "validation_failed")
    assert {d["field"] for d in body["error"]["details"]} == {"query", "k"}


def test_422_for_malformed_json(small_client: TestClient) -> None:
    response = small_client.post(
        "/api/v1/search", content=b"{not json", headers={"content-type": "application/json"}
    )
    _assert_shape(response.json(), 422, "validation_failed")


def test_422_for_k_above_the_configured_maximum(small_client: TestClient) -> None:
    response = small_client.post("/api/v1/search", json={"query": "vpn", "k": 999})
    body = response.json()
    _assert_shape(body, 422, "invalid_input")
    assert body["error"]["details"][0]["field"] == "k"


def test_500_hides_the_traceback(small_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def boom(session: Session, hits: Any, visibility: Any = None) -> Any:
        calls.append(len(hits))
        raise RuntimeError("secret internals")

    monkeypatch.setattr(search_service, "resolve_hits", boom)
    response = small_client.post("/api/v1/search", json={"query": "vpn"})
    assert calls, "the search never reached the failing step"
    assert response.status_code == 500
    _assert_shape(response.json(), 500, "internal_error")
    assert "secret" not in response.text
