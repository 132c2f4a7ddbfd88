"""The OpenAPI document says what the service does: errors in the one shape on every
route, limits as enforced, 405 with every allowed method (issue 14, item 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.fakes import HashingEmbedder


def _document(tmp_path: Path, **settings: Any) -> dict[str, Any]:
    app = create_app(
        Settings(data_dir=tmp_path, _env_file=None, **settings),  # type: ignore[call-arg]
        embedder=HashingEmbedder(),
    )
    document: dict[str, Any] = app.openapi()
    return document


def test_every_error_is_declared_in_the_one_shape(tmp_path: Path) -> None:
    document = _document(tmp_path)
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {code: r for code, r in responses.items() if int(code) >= 400}
            for code, response in errors.items():
                assert response["content"]["application/json"]["schema"] == error, (path, code)
            if operation.get("security"):
                assert {"401", "403", "429", "503"} <= set(errors), (method, path)
                assert "Retry-After" in errors["429"]["headers"]
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(errors), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
    assert "/api/v1/health" in document["paths"]
    assert not document["paths"]["/api/v1/health"]["get"].get("security")
    # FastAPI's own `detail` shape is gone: nothing answers in it.
    assert "HTTPValidationError" not in str(document)
    body = document["components"]["schemas"]["ErrorDetail"]
    assert set(body["required"]) == {"code", "message", "status", "details"}


def test_routes_that_answer_200_or_201_declare_both(tmp_path: Path) -> None:
    paths = _document(tmp_path)["paths"]
    for path, method in [
        ("/api/v1/tickets", "post"),
        ("/api/v1/links", "post"),
        ("/api/v1/escalations", "post"),
        ("/api/v1/articles/{slug}", "put"),
    ]:
        assert {"200", "201"} <= set(paths[path][method]["responses"]), (method, path)


def test_the_largest_k_is_the_one_enforced(tmp_path: Path) -> None:
    document = _document(tmp_path, search_max_k=20)
    k = document["components"]["schemas"]["SearchRequest"]["properties"]["k"]
    assert k["maximum"] == 20


def test_405_names_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete("/api/v1/articles")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
    response = client.patch("/api/v1/articles/vpn")
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"


def test_bodies_take_what_json_schema_means(client: TestClient) -> None:
    assert client.post("/api/v1/search", json={"query": "VPN", "k": 5.0}).status_code == 200
    assert client.post("/api/v1/search", json={"query": "VPN", "k": 5.5}).status_code == 422
    for resolved_at in ("", 0):
        body = {"id": "T1", "title": "VPN", "resolved_at": resolved_at}
        response = client.post("/api/v1/tickets", json=body)
        assert response.status_code == 422, resolved_at
    assert client.get("/api/v1/articles", params={"status": ""}).status_code == 422
    assert client.get("/api/v1/articles", params={"kind": "howto"}).status_code == 422
    assert client.get("/api/v1/articles", params={"kind": "team"}).status_code == 200
