"""Integers in paths and queries are bounded: 2^63 and more answer the one-shape 422,
never a 500 (SQLite cannot bind them), and the client's next request still works."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import article_markdown

HUGE = (2**63, 2**64, 2**31, -(2**63) - 1)
LISTS = (
    "/api/v1/tasks",
    "/api/v1/escalations",
    "/api/v1/links",
    "/api/v1/audit",
    "/api/v1/articles",
)
PATHS = (
    ("GET", "/api/v1/articles/vpn/versions/{n}"),
    ("POST", "/api/v1/articles/vpn/versions/{n}/submit"),
    ("POST", "/api/v1/articles/vpn/versions/{n}/publish"),
    ("POST", "/api/v1/articles/vpn/versions/{n}/reject"),
    ("POST", "/api/v1/articles/vpn/versions/{n}/restore"),
    ("POST", "/api/v1/tasks/{n}/close"),
)


@pytest.fixture
def written(client: TestClient) -> TestClient:
    markdown = article_markdown("VPN", "## Fix\n\nReconnect.", team="network")
    response = client.post("/api/v1/articles", json={"slug": "vpn", "markdown": markdown})
    assert response.status_code == 201
    return client


def _is_validation_error(response_status: int, body: dict[str, object]) -> bool:
    error = body.get("error")
    return (
        response_status == 422
        and isinstance(error, dict)
        and error["code"] == ("validation_failed")
    )


@pytest.mark.parametrize("value", HUGE)
def test_huge_offset_and_limit_are_422_and_the_connection_survives(
    written: TestClient, value: int
) -> None:
    for path in LISTS:
        for name in ("offset", "limit"):
            response = written.get(path, params={name: str(value)})
            assert _is_validation_error(response.status_code, response.json()), (path, name)
            assert written.get("/api/v1/articles").status_code == 200, (path, name)
            assert written.get("/api/v1/articles/vpn").status_code == 200, (path, name)


@pytest.mark.parametrize("value", HUGE)
def test_huge_numbers_in_paths_are_422_and_the_connection_survives(
    written: TestClient, value: int
) -> None:
    for method, template in PATHS:
        response = written.request(method, template.format(n=value))
        assert _is_validation_error(response.status_code, response.json()), template
        assert written.get("/api/v1/articles/vpn/versions/1").status_code == 200, template


def test_largest_allowed_values_still_answer_normally(written: TestClient) -> None:
    top = 2**31 - 1
    for path in LISTS:
        assert written.get(path, params={"offset": top}).status_code == 200, path
    assert written.get(f"/api/v1/articles/vpn/versions/{top}").status_code == 404
    assert written.post(f"/api/v1/tasks/{top}/close").status_code == 404
