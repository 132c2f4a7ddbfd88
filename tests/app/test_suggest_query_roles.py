"""/suggest ranks by the blended roles but judges the first-level how-to by the question role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.state import app_state
from index.query_vector import query_vectors
from routing.features import TicketText
from tests.app.test_api import VPN
from tests.auth_helpers import publish_article
from tests.fakes import RoleEmbedder


@pytest.fixture
def fake_embedder() -> RoleEmbedder:
    return RoleEmbedder()


def test_first_level_similarity_is_the_question_cosine(
    client: TestClient, fake_embedder: RoleEmbedder
) -> None:
    publish_article(client, "vpn-drops", VPN)
    ticket = TicketText("VPN drops every few minutes", VPN.split("---")[-1])
    live = app_state(client.app).ready().live_index
    vectors = query_vectors(fake_embedder, ticket.lexical)
    (by_question,) = live.similarities(vectors.question, 1).values()
    (by_blend,) = live.similarities(vectors.ranking, 1).values()
    assert by_question != pytest.approx(by_blend, abs=1e-3)

    body = client.post(
        "/api/v1/suggest", json={"title": ticket.title, "description": ticket.description}
    ).json()

    assert body["solutions"][0]["id"] == "article:vpn-drops"
    assert by_question >= 0.89  # the default threshold: this how-to counts as the fix
    assert body["escalation"]["solution"]["similarity"] == pytest.approx(by_question, abs=1e-4)
