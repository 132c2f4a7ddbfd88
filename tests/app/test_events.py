"""Every suggestion and search leaves one event, by the API and by the pages (issue 12)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.services.events import prune
from db.models import SearchEvent, SuggestionEvent, SuggestionShown, utcnow
from tests.auth_helpers import bearer, factory_of, keys_of, publish_article
from tests.factories import article_markdown
from tests.web.helpers import browser, page_csrf, sign_in

VPN = article_markdown(
    "VPN drops every few minutes",
    "## Fix\nDisable the power saving of the WLAN adapter and update the VPN client.\n",
    team="network",
    audience="public",
)


def _vpn(client: TestClient) -> None:
    response = client.post("/api/v1/articles", json={"slug": "vpn-drops", "markdown": VPN})
    assert response.status_code == 201, response.text
    publish_article(client, "vpn-drops", VPN, write=False)


def test_api_suggest_and_search_are_recorded(client: TestClient) -> None:
    _vpn(client)
    keys = keys_of(client)
    answer = client.post(
        "/api/v1/suggest",
        json={"title": "VPN drops", "ticket_source": "zammad", "ticket_id": "T-7"},
        headers=bearer(keys["contractor"]),
    ).json()
    found = client.post(
        "/api/v1/search",
        json={"query": "VPN drops, call me at +49 170 1234567 or max@example.com"},
        headers=bearer(keys["agent"]),
    ).json()
    with factory_of(client)() as session:
        event = session.scalars(select(SuggestionEvent)).one()
        shown = session.scalars(select(SuggestionShown).order_by(SuggestionShown.rank)).all()
        search = session.scalars(select(SearchEvent)).one()
    assert (event.channel, event.role, event.company) == ("api", "contractor", "NetPartner GmbH")
    assert (event.ticket_source, event.ticket_id) == ("zammad", "T-7")
    assert event.action == answer["escalation"]["action"]
    assert event.team == (answer["team"]["name"] if answer["team"] else None)
    assert [(s.rank, s.target) for s in shown] == [
        (rank, s["id"]) for rank, s in enumerate(answer["solutions"], start=1)
    ]
    assert shown and shown[0].target == "article:vpn-drops"
    assert (search.channel, search.role, search.company) == ("api", "agent", None)
    assert "1234567" not in search.query and "max@example.com" not in search.query
    assert search.query.startswith("VPN drops")
    assert search.results == len(found["hits"]) > 0
    assert search.top_score == max(h["score"] for h in found["hits"])


def test_page_suggest_and_search_are_recorded(client: TestClient) -> None:
    _vpn(client)
    page = browser(client)
    sign_in(page, keys_of(client)["agent"])
    csrf = page_csrf(page)
    answer = page.post(
        "/suggest", data={"title": "VPN drops", "ticket_ref": "demo:T-100", "csrf": csrf}
    )
    assert answer.status_code == 200, answer.text
    assert page.get("/search", params={"q": "VPN"}).status_code == 200
    with factory_of(client)() as session:
        event = session.scalars(select(SuggestionEvent)).one()
        search = session.scalars(select(SearchEvent)).one()
    assert (event.channel, event.role, event.ticket_source, event.ticket_id) == (
        "page",
        "agent",
        "demo",
        "T-100",
    )
    assert (search.channel, search.query, search.results) == ("page", "VPN", 1)


def test_prune_deletes_only_events_past_the_retention(client: TestClient) -> None:
    now = utcnow()
    with factory_of(client)() as session, session.begin():
        for days in (1, 40):
            event = SuggestionEvent(
                at=now - timedelta(days=days),
                channel="api",
                actor="a",
                role="agent",
                action="escalate",
            )
            session.add(event)
            session.flush()
            session.add(SuggestionShown(event_id=event.id, rank=1, target="article:x"))
            session.add(
                SearchEvent(
                    at=now - timedelta(days=days),
                    channel="api",
                    role="agent",
                    query="q",
                    results=0,
                )
            )
    with factory_of(client)() as session, session.begin():
        assert prune(session, 30, now=now) == 2
    with factory_of(client)() as session:
        assert [e.at.date() for e in session.scalars(select(SuggestionEvent))] == [
            (now - timedelta(days=1)).date()
        ]
        assert len(session.scalars(select(SuggestionShown)).all()) == 1
        assert len(session.scalars(select(SearchEvent)).all()) == 1
