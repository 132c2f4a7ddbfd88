"""Article lifecycle: drafts stay out of sight, review by another owner, versions, staleness."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.auth_helpers import bearer, keys_of, publish_article
from tests.factories import article_markdown

ALPHA = article_markdown("Switch port flaps", "## Fix\n\nAlpha: replace the patch cable.")
BETA = ALPHA.replace("Alpha: replace the patch cable", "Beta: disable port security")


def _as(client: TestClient, role: str) -> dict[str, str]:
    return bearer(keys_of(client)[role])


def _search(client: TestClient, role: str, query: str = "switch port flaps") -> list[str]:
    response = client.post("/api/v1/search", json={"query": query}, headers=_as(client, role))
    return [h["id"] for h in response.json()["hits"]]


def test_drafts_are_invisible_until_another_owner_publishes(
    client: TestClient, api_keys: dict[str, str]
) -> None:
    author = _as(client, "specialist")
    created = client.post(
        "/api/v1/articles", json={"slug": "flaps", "markdown": ALPHA}, headers=author
    )
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    assert client.get("/api/v1/articles/flaps", headers=author).status_code == 200
    for role in ("agent", "contractor", "integration", "workplace-specialist"):
        assert client.get("/api/v1/articles/flaps", headers=_as(client, role)).status_code == 404
        assert _search(client, role) == []
    assert _search(client, "specialist") == []  # drafts are never searchable

    base = "/api/v1/articles/flaps/versions/1"
    assert client.post(f"{base}/publish", headers=_as(client, "network-reviewer")).status_code == (
        409  # not in review yet
    )
    assert client.post(f"{base}/submit", headers=author).json()["status"] == "in_review"
    own = client.post(f"{base}/publish", headers=author)
    assert own.status_code == 403  # the author never approves their own version
    assert client.post(f"{base}/publish", headers=_as(client, "agent")).status_code == 404
    assert (
        client.post(f"{base}/publish", headers=_as(client, "workplace-specialist")).status_code
        == 404
    )
    published = client.post(f"{base}/publish", headers=_as(client, "network-reviewer"))
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert _search(client, "agent") == ["article:flaps"]


def test_a_revision_by_a_non_owner_is_refused_and_the_live_version_stays(
    client: TestClient,
) -> None:
    publish_article(client, "flaps", ALPHA, author="specialist", reviewer="network-reviewer")
    outsider = _as(client, "workplace-specialist")
    refused = client.put("/api/v1/articles/flaps", json={"markdown": BETA}, headers=outsider)
    assert refused.status_code == 403
    revision = client.put(
        "/api/v1/articles/flaps", json={"markdown": BETA}, headers=_as(client, "specialist")
    )
    assert revision.json()["pending_version"] == 2
    client.post("/api/v1/articles/flaps/versions/2/submit", headers=_as(client, "specialist"))
    for role in ("workplace-specialist", "agent", "integration"):
        response = client.post(
            "/api/v1/articles/flaps/versions/2/publish", headers=_as(client, role)
        )
        assert response.status_code == 403, role
    live = client.get("/api/v1/articles/flaps", headers=_as(client, "agent")).json()
    assert "Alpha" in live["markdown"]
    assert _search(client, "agent", "disable port security") == ["article:flaps"]
    assert (
        "Alpha"
        in client.post(
            "/api/v1/search", json={"query": "port security"}, headers=_as(client, "agent")
        ).json()["hits"][0]["snippet"]
    )


def test_every_version_is_kept_and_an_old_one_restored(client: TestClient) -> None:
    publish_article(client, "flaps", ALPHA, author="specialist", reviewer="network-reviewer")
    publish_article(client, "flaps", BETA, author="specialist", reviewer="admin")
    owner = _as(client, "specialist")
    versions = client.get("/api/v1/articles/flaps/versions", headers=owner).json()["versions"]
    assert [(v["number"], v["state"], v["author"]) for v in versions] == [
        (1, "superseded", "specialist"),
        (2, "published", "specialist"),
    ]
    assert versions[1]["reviewed_by"] == "admin"
    second = client.get("/api/v1/articles/flaps/versions/2", headers=owner).json()
    assert "-Alpha: replace the patch cable." in second["diff"]
    assert "+Beta: disable port security." in second["diff"]
    assert (
        client.get("/api/v1/articles/flaps/versions", headers=_as(client, "agent")).status_code
        == 403
    )

    restored = client.post("/api/v1/articles/flaps/versions/1/restore", headers=owner)
    assert restored.status_code == 201
    assert restored.json()["number"] == 3
    assert restored.json()["note"] == "restored from version 1"
    assert "Beta" in client.get("/api/v1/articles/flaps").json()["markdown"]  # until approved
    client.post("/api/v1/articles/flaps/versions/3/submit", headers=owner)
    client.post(
        "/api/v1/articles/flaps/versions/3/publish", headers=_as(client, "network-reviewer")
    )
    assert "Alpha" in client.get("/api/v1/articles/flaps").json()["markdown"]
    states = [
        v["state"]
        for v in client.get("/api/v1/articles/flaps/versions", headers=owner).json()["versions"]
    ]
    assert states == ["superseded", "superseded", "published"]


def test_archived_articles_leave_search(client: TestClient) -> None:
    publish_article(client, "flaps", ALPHA)
    assert _search(client, "agent") == ["article:flaps"]
    archived = client.post("/api/v1/articles/flaps/archive", headers=_as(client, "specialist"))
    assert archived.json()["status"] == "archived"
    assert _search(client, "agent") == []
    assert client.get("/api/v1/articles/flaps", headers=_as(client, "agent")).status_code == 404


def test_stale_articles_are_flagged_and_listed(client: TestClient) -> None:
    old = article_markdown("Old VPN guide", "## Fix\n\nOld VPN steps.", review_by="2020-01-31")
    fresh = article_markdown("New VPN guide", "## Fix\n\nNew VPN steps.", review_by="2999-01-31")
    publish_article(client, "old-vpn", old)
    publish_article(client, "new-vpn", fresh)
    hits = client.post("/api/v1/search", json={"query": "VPN steps"}).json()["hits"]
    assert {h["id"]: h["stale"] for h in hits} == {
        "article:old-vpn": True,
        "article:new-vpn": False,
    }
    assert client.get("/api/v1/articles/old-vpn").json()["stale"] is True
    stale = client.get("/api/v1/articles?stale=true", headers=_as(client, "specialist")).json()
    assert [a["slug"] for a in stale["articles"]] == ["old-vpn"]
    solutions = client.post("/api/v1/suggest", json={"title": "Old VPN steps"}).json()["solutions"]
    assert {s["id"]: s["stale"] for s in solutions}["article:old-vpn"] is True
