"""Hidden looks exactly like absent: every method on an article the caller may not see
answers what it answers for a slug that does not exist (status, code, message)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.pipeline import ingest_articles
from tests.auth_helpers import bearer, factory_of, keys_of
from tests.factories import article_markdown, ticket, write_article
from tests.fakes import HashingEmbedder

ABSENT = "no-such-article"
ARTICLES: dict[str, dict[str, Any]] = {
    "int-pub": {"audience": "internal"},
    "int-draft": {"audience": "internal", "status": "draft"},
    "pub-draft": {"audience": "public", "status": "draft"},
    "part-acme": {"audience": "partners", "companies": ["Acme GmbH"]},
    "pub-pub": {"audience": "public"},
    "pub-linked": {"audience": "public"},
}
# Per role, the slugs it may not see (pub-linked is archived after an agent linked it).
HIDDEN = {
    "contractor": ["int-pub", "int-draft", "pub-draft", "part-acme", "pub-linked"],
    "agent": ["int-draft", "pub-draft", "pub-linked"],
}
MARKDOWN = article_markdown("Router", "## Fix\n\nReboot it.", team="network")

Request = tuple[str, Callable[[str], str], Callable[[str], dict[str, Any] | None]]
REQUESTS: list[Request] = [
    ("GET", lambda s: f"/api/v1/articles/{s}", lambda s: None),
    ("PUT", lambda s: f"/api/v1/articles/{s}", lambda s: {"markdown": MARKDOWN}),
    ("DELETE", lambda s: f"/api/v1/articles/{s}", lambda s: None),
    ("POST", lambda s: "/api/v1/articles", lambda s: {"slug": s, "markdown": MARKDOWN}),
    ("GET", lambda s: f"/api/v1/articles/{s}/versions", lambda s: None),
    ("POST", lambda s: f"/api/v1/articles/{s}/archive", lambda s: None),
    ("POST", lambda s: "/api/v1/feedback", lambda s: {"target": f"article:{s}", "helpful": False}),
    (
        "POST",
        lambda s: "/api/v1/links",
        lambda s: {"ticket_source": "test", "ticket_id": "T1", "article_slug": s},
    ),
    ("GET", lambda s: f"/api/v1/links?article={s}", lambda s: None),
]


def _no_body(slug: str) -> None:
    return None


def _version_path(number: int, action: str = "") -> Callable[[str], str]:
    def path(slug: str) -> str:
        return f"/api/v1/articles/{slug}/versions/{number}{action}"

    return path


for _number in (1, 99):  # a version the hidden article has, and one it has not
    REQUESTS.append(("GET", _version_path(_number), _no_body))
    for _action in ("submit", "publish", "reject", "restore"):
        REQUESTS.append(("POST", _version_path(_number, f"/{_action}"), _no_body))


@pytest.fixture
def world(client: TestClient, fake_embedder: HashingEmbedder, tmp_path: Path) -> TestClient:
    folder = tmp_path / "kb"
    for slug, meta in ARTICLES.items():
        write_article(folder, slug, f"Router {slug}", f"## Fix\n\nRouter {slug}.", **meta)
    ingest_articles(factory_of(client), fake_embedder, folder, max_words=180)
    assert client.post("/api/v1/tickets", json=ticket("T1", "Router", "down")).status_code == 201
    agent = bearer(keys_of(client)["agent"])
    link = {"ticket_source": "test", "ticket_id": "T1", "article_slug": "pub-linked"}
    assert client.post("/api/v1/links", json=link, headers=agent).status_code == 201
    assert client.post("/api/v1/articles/pub-linked/archive").status_code == 200
    return client


def _answer(client: TestClient, role: str, request: Request, slug: str) -> tuple[Any, ...]:
    method, path, body = request
    response = client.request(
        method, path(slug), json=body(slug), headers=bearer(keys_of(client)[role])
    )
    payload = response.json() if response.content else {}
    error = payload.get("error") if isinstance(payload, dict) else None
    if error is not None:
        return response.status_code, error["code"], error["message"].replace(slug, "<slug>")
    if isinstance(payload, dict) and "links" in payload:
        return response.status_code, payload["total"]
    return (response.status_code,)


@pytest.mark.parametrize("role", sorted(HIDDEN))
def test_hidden_article_answers_like_an_absent_one(world: TestClient, role: str) -> None:
    mismatches = []
    for slug in HIDDEN[role]:
        for request in REQUESTS:
            hidden = _answer(world, role, request, slug)
            absent = _answer(world, role, request, ABSENT)
            if hidden != absent:
                mismatches.append((request[0], request[1](slug), hidden, absent))
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_the_hidden_articles_are_still_there(world: TestClient) -> None:
    """The matrix changed nothing: the admin still reads every article."""
    for slug in ARTICLES:
        assert world.get(f"/api/v1/articles/{slug}").status_code == 200, slug
