"""GET /api/v1/teams: the team catalogue read from the team charters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import teams
from app.main import API_PREFIX, create_app
from app.settings import Settings
from tests.auth_helpers import authorize, publish_article
from tests.factories import article_markdown
from tests.fakes import HashingEmbedder
from tests.routing.helpers import CHARTERS


@pytest.fixture
def teams_client(settings: Settings, fake_embedder: HashingEmbedder) -> Iterator[TestClient]:
    app = create_app(settings, embedder=fake_embedder)
    if not any(getattr(r, "path", "") == f"{API_PREFIX}/teams" for r in app.routes):
        app.include_router(teams.router, prefix=API_PREFIX)  # until main.py registers it
    with TestClient(app, raise_server_exceptions=False) as client:
        authorize(client)
        yield client


def _create(client: TestClient, slug: str, markdown: str) -> None:
    response = client.post("/api/v1/articles", json={"slug": slug, "markdown": markdown})
    assert response.status_code == 201, response.text
    publish_article(client, slug, markdown, write=False)  # a second key approves


def test_catalogue_lists_team_charters_only(teams_client: TestClient, tmp_path: Path) -> None:
    assert teams_client.get("/api/v1/teams").json() == {"teams": []}
    for team in ("workplace", "network"):
        markdown = article_markdown(
            f"Team {team.title()}",
            CHARTERS[team],
            team=team,
            kind="team",
            name=team.title(),
            contractor="Acme GmbH" if team == "workplace" else None,
            hours="Mon-Fri 07:00-18:00",
        )
        _create(teams_client, f"team-{team}", markdown)
    _create(teams_client, "vpn-howto", article_markdown("VPN how-to", "## Fix\n\nRestart."))

    body = teams_client.get("/api/v1/teams").json()
    assert [t["team"] for t in body["teams"]] == ["network", "workplace"]
    network, workplace = body["teams"]
    assert network["name"] == "Network"
    assert network["charter"] == "Network runs VPN, WLAN, switches and firewalls."
    assert network["skills"] == [
        "VPN client problems and VPN tunnel drops",
        "WLAN certificates and access points",
    ]
    assert network["escalation_criteria"] == ["the VPN disconnects for many users"]
    assert network["contractor"] is None
    assert network["hours"] == "Mon-Fri 07:00-18:00"
    assert network["link"] == "/api/v1/articles/team-network"
    assert workplace["contractor"] == "Acme GmbH"


def test_catalogue_of_the_repository_articles_parses_every_section() -> None:
    from ingest.markdown import parse_article
    from routing.charters import read_charter

    folder = Path(__file__).resolve().parents[2] / "articles"
    for path in sorted(folder.glob("team-*.md")):
        parsed = parse_article(path.stem, path.read_text(encoding="utf-8"))
        team = read_charter(
            team=parsed.meta.team or parsed.slug,
            slug=parsed.slug,
            title=parsed.meta.title,
            body=parsed.body,
            front_matter=parsed.front_matter,
            tags=parsed.meta.tags,
        )
        assert team.texts("charter"), path.name
        assert len(team.texts("skills")) >= 3, path.name
        assert len(team.texts("escalation_criteria")) >= 3, path.name
        assert team.hours, path.name
