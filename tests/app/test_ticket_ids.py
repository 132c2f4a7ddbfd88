"""Ticket source and id: no '/', no '..', no ':' in the source, so every stored ticket's
link answers and `ticket:<source>:<id>` names exactly one ticket."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import ticket

BAD = [
    ("a/b", "1"),
    ("..", "1"),
    (".", "1"),
    ("x:y", "z"),
    ("-lead", "1"),
    ("s" * 65, "1"),
    ("ok", "a/b"),
    ("ok", ".."),
    ("ok", "."),
]
GOOD = [("zammad", "INC-1"), ("snow.prod", "x:y"), ("jira_2", "PROJ-12 (copy)"), ("a", "..x")]


@pytest.mark.parametrize(("source", "external_id"), BAD)
def test_bad_source_or_id_is_422(client: TestClient, source: str, external_id: str) -> None:
    response = client.post(
        "/api/v1/tickets", json=ticket(external_id, "VPN", "drops", source=source)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0]["field"] in ("source", "id")


@pytest.mark.parametrize(("source", "external_id"), GOOD)
def test_a_stored_tickets_own_link_answers(
    client: TestClient, source: str, external_id: str
) -> None:
    response = client.post(
        "/api/v1/tickets", json=ticket(external_id, "VPN", "drops", source=source)
    )
    assert response.status_code == 201, response.text
    link = response.json()["ticket"]["link"]
    read = client.get(link)
    assert read.status_code == 200, link
    assert (read.json()["source"], read.json()["id"]) == (source, external_id)


def test_the_ticket_target_is_unambiguous(client: TestClient) -> None:
    """x:y / z and x / y:z were both ticket:x:y:z; now only the second can exist."""
    first = client.post("/api/v1/tickets", json=ticket("z", "VPN", "drops", source="x:y"))
    assert first.status_code == 422
    second = client.post("/api/v1/tickets", json=ticket("y:z", "VPN", "drops", source="x"))
    assert second.status_code == 201
    feedback = client.post("/api/v1/feedback", json={"target": "ticket:x:y:z", "helpful": True})
    assert feedback.status_code == 201, feedback.text


@pytest.mark.parametrize(("source", "external_id"), BAD)
def test_links_and_outcomes_name_tickets_by_the_same_rules(
    client: TestClient, source: str, external_id: str
) -> None:
    named = {"ticket_source": source, "ticket_id": external_id}
    link = client.post("/api/v1/links", json={**named, "article_slug": "vpn"})
    assert link.status_code == 422, link.text
    outcome = client.post("/api/v1/escalations", json={**named, "final_team": "network"})
    assert outcome.status_code == 422, outcome.text
    fields = {d["field"] for d in outcome.json()["error"]["details"]}
    assert fields <= {"ticket_source", "ticket_id"}
