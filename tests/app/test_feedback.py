"""Feedback between the levels: tasks for the owning team, reuse links, final teams."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.auth_helpers import bearer, keys_of, publish_article
from tests.factories import article_markdown, ticket


def _as(client: TestClient, role: str) -> dict[str, str]:
    return bearer(keys_of(client)[role])


def test_not_helpful_opens_a_task_for_the_owning_team(client: TestClient) -> None:
    publish_article(client, "vpn", article_markdown("VPN", "## Fix\n\nRestart.", team="network"))
    agent = _as(client, "agent")
    helpful = client.post(
        "/api/v1/feedback", json={"target": "article:vpn", "helpful": True}, headers=agent
    )
    assert helpful.status_code == 201
    assert helpful.json()["task_id"] is None
    not_helpful = client.post(
        "/api/v1/feedback",
        json={
            "target": "article:vpn",
            "helpful": False,
            "comment": "Did not fix it",
            "context": "suggest",
            "query": "VPN drops",
        },
        headers=agent,
    ).json()
    flagged = client.post(
        "/api/v1/feedback",
        json={"target": "article:vpn", "helpful": True, "flag": "outdated"},
        headers=agent,
    ).json()
    assert not_helpful["team"] == "network" and not_helpful["task_id"]
    tasks = client.get("/api/v1/tasks", headers=_as(client, "specialist")).json()
    assert [(t["reason"], t["team"], t["status"]) for t in tasks["tasks"]] == [
        ("not_helpful", "network", "open"),
        ("outdated", "network", "open"),
    ]
    assert tasks["tasks"][0]["comment"] == "Did not fix it"
    other = client.get("/api/v1/tasks", headers=_as(client, "workplace-specialist")).json()
    assert other["total"] == 0
    assert client.get("/api/v1/tasks").json()["total"] == 2  # admins see all
    assert client.get("/api/v1/tasks", headers=agent).status_code == 403
    assert (
        client.post(
            f"/api/v1/tasks/{flagged['task_id']}/close",
            headers=_as(client, "workplace-specialist"),
        ).status_code
        == 404
    )
    closed = client.post(
        f"/api/v1/tasks/{flagged['task_id']}/close",
        json={"resolution": "review date renewed"},
        headers=_as(client, "specialist"),
    ).json()
    assert closed["status"] == "closed" and closed["closed_by"] == "specialist"
    open_tasks = client.get("/api/v1/tasks?status=open", headers=_as(client, "specialist"))
    assert open_tasks.json()["total"] == 1
    stats = client.get("/api/v1/stats").json()
    assert (stats["helpful"], stats["not_helpful"], stats["open_tasks"]) == (2, 1, 1)


def test_feedback_on_what_the_caller_cannot_see_is_a_404(client: TestClient) -> None:
    publish_article(client, "vpn", article_markdown("VPN", "## Fix\n\nRestart."))
    client.post("/api/v1/tickets", json=ticket("T1", "VPN", "drops"))
    contractor = _as(client, "contractor")
    for target in ("article:vpn", "ticket:test:T1", "article:nope"):
        response = client.post(
            "/api/v1/feedback", json={"target": target, "helpful": False}, headers=contractor
        )
        assert response.status_code == 404, target
    ticket_feedback = client.post(
        "/api/v1/feedback",
        json={"target": "ticket:test:T1", "helpful": False},
        headers=_as(client, "agent"),
    )
    assert ticket_feedback.json()["team"] == "network"


def test_solution_links_and_escalation_outcomes_are_stored(client: TestClient) -> None:
    publish_article(client, "vpn", article_markdown("VPN", "## Fix\n\nRestart."))
    integration = _as(client, "integration")
    link = {"ticket_source": "snow", "ticket_id": "INC1", "article_slug": "vpn"}
    assert client.post("/api/v1/links", json=link, headers=integration).status_code == 201
    assert client.post("/api/v1/links", json=link, headers=integration).status_code == 200
    links = client.get("/api/v1/links?article=vpn", headers=_as(client, "agent")).json()
    assert links["total"] == 1 and links["links"][0]["actor"] == "integration"
    assert client.get("/api/v1/links", headers=_as(client, "contractor")).status_code == 403

    first = {"ticket_source": "snow", "ticket_id": "INC1", "suggested_team": "network"}
    response = client.post(
        "/api/v1/escalations", json={**first, "final_team": "workplace"}, headers=integration
    )
    assert response.status_code == 201 and response.json()["agreed"] is False
    again = client.post(
        "/api/v1/escalations", json={**first, "final_team": "network"}, headers=integration
    )
    assert again.status_code == 200 and again.json()["agreed"] is True
    second = {"ticket_source": "snow", "ticket_id": "INC2", "suggested_team": "network"}
    client.post("/api/v1/escalations", json={**second, "final_team": "messaging"})
    outcomes = client.get("/api/v1/escalations", headers=_as(client, "specialist")).json()
    assert outcomes["total"] == 2 and outcomes["agreement"] == 0.5
    stats = client.get("/api/v1/stats").json()
    assert (stats["reuse_links"], stats["escalations"]) == (1, 2)
    actions = [e["action"] for e in client.get("/api/v1/audit").json()["entries"]]
    assert {"link.create", "escalation.record"} <= set(actions)
