"""Request bodies are strict: no bool or number where a string belongs, no string where a
number, bool or list belongs; datetimes still come as ISO strings, as JSON sends them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import ticket

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("/api/v1/tickets", ticket("S1", "VPN", "drops", source=False), "source"),
    ("/api/v1/tickets", ticket("S1", "VPN", "drops", tags="AAA"), "tags"),
    ("/api/v1/tickets", ticket(True, "VPN", "drops"), "id"),  # type: ignore[arg-type]
    ("/api/v1/tickets", ticket("S1", 5, "drops"), "title"),  # type: ignore[arg-type]
    ("/api/v1/search", {"query": "vpn", "k": "5"}, "k"),
    ("/api/v1/search", {"query": "vpn", "k": True}, "k"),
    ("/api/v1/search", {"query": "vpn", "filters": {"team": 5}}, "filters.team"),
    ("/api/v1/suggest", {"title": 5}, "title"),
    ("/api/v1/feedback", {"target": "article:x", "helpful": "yes"}, "helpful"),
    ("/api/v1/feedback", {"target": "article:x", "helpful": 1}, "helpful"),
    ("/api/v1/links", {"ticket_source": "t", "ticket_id": 5, "article_slug": "x"}, "ticket_id"),
    (
        "/api/v1/escalations",
        {"ticket_source": "t", "ticket_id": "1", "final_team": 1},
        "final_team",
    ),
    ("/api/v1/articles", {"slug": "x", "markdown": 5}, "markdown"),
    ("/api/v1/tasks/1/close", {"resolution": False}, "resolution"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD)
def test_loose_types_are_422(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in {d["field"] for d in error["details"]}


def test_what_json_sends_still_parses(client: TestClient) -> None:
    record = ticket("S2", "VPN", "drops", tags=["a", "b"], created_at="2026-11-30T09:00:00Z")
    record["id"] = 12345  # ticket tools send numeric ids: a JSON number is an id
    written = client.post("/api/v1/tickets", json=record)
    assert written.status_code == 201, written.text
    body = written.json()["ticket"]
    assert (body["id"], body["tags"], body["created_at"]) == (
        "12345",
        ["a", "b"],
        "2026-11-30T09:00:00Z",
    )
    assert client.post("/api/v1/search", json={"query": "vpn", "k": 5}).status_code == 200
