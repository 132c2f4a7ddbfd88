"""The leak matrix for the pages: every role x every HTML page, as for the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.auth_helpers import keys_of
from tests.factories import ticket
from tests.fakes import HashingEmbedder
from tests.visibility_world import (
    CHARTERS,
    PUBLISHED,
    READABLE,
    ROLES,
    SEARCHABLE,
    STAFF,
    UNPUBLISHED,
    build_world,
)
from tests.web.helpers import browser, page_csrf, sign_in

ABSENT = "no-such-article"
_HIT = re.compile(r'<li data-id="([^"]+)">')
_ARTICLE_LINK = re.compile(r'href="/articles/([a-z0-9-]+)"')
_CSRF_VALUE = re.compile(r'name="csrf" value="[0-9a-f]+"')


@pytest.fixture
def world(client: TestClient, fake_embedder: HashingEmbedder, tmp_path: Path) -> TestClient:
    return build_world(client, fake_embedder, tmp_path)


def _person(world: TestClient, role: str) -> TestClient:
    person = browser(world)
    assert sign_in(person, keys_of(world)[role]).status_code == 303
    return person


def _slugs(ids: list[str]) -> set[str]:
    return {i.removeprefix("article:") for i in ids if i.startswith("article:")}


def _comparable(html: str, slug: str) -> str:
    return _CSRF_VALUE.sub("csrf", html).replace(slug, "<slug>")


@pytest.mark.parametrize("role", ROLES)
def test_search_page_shows_exactly_what_the_role_may_see(world: TestClient, role: str) -> None:
    page = _person(world, role).get("/search", params={"q": "router reboot"})
    assert page.status_code == 200
    ids = _HIT.findall(page.text)
    assert _slugs(ids) == SEARCHABLE[role]
    assert [i for i in ids if i.startswith("ticket:")] == (
        ["ticket:test:T1"] if role in STAFF else []
    )


@pytest.mark.parametrize("role", ROLES)
def test_article_pages_and_the_list(world: TestClient, role: str) -> None:
    person = _person(world, role)
    absent = person.get(f"/articles/{ABSENT}")
    assert absent.status_code == 404
    for slug in {*PUBLISHED, *UNPUBLISHED, *CHARTERS}:
        page = person.get(f"/articles/{slug}")
        if slug in READABLE[role]:
            assert page.status_code == 200, (role, slug)
        else:  # hidden looks exactly like absent: same status, same page
            assert page.status_code == 404, (role, slug)
            assert _comparable(page.text, slug) == _comparable(absent.text, ABSENT), (role, slug)
    listed = person.get("/articles")
    assert set(_ARTICLE_LINK.findall(listed.text)) == READABLE[role]


@pytest.mark.parametrize("role", ROLES)
def test_suggestion_page_shows_only_what_the_role_may_see(world: TestClient, role: str) -> None:
    person = _person(world, role)
    page = person.post(
        "/suggest",
        data={"csrf": page_csrf(person), "title": "Router reboot", "description": "router down"},
    )
    assert page.status_code == 200
    shown = set(_ARTICLE_LINK.findall(page.text))
    assert shown <= SEARCHABLE[role], (role, shown - SEARCHABLE[role])
    if role in STAFF:
        assert "ticket:test:T1" in page.text  # the resolved ticket, with its resolution
    else:
        # No ticket, no internal charter, no team outside the contractor's catalogue.
        assert "ticket:" not in page.text
        assert "Similar resolved tickets" not in page.text
        assert "network" not in page.text


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_and_hidden_feedback_targets(world: TestClient, role: str) -> None:
    person = _person(world, role)
    dashboard = person.get("/dashboard")
    if role in ("admin", "specialist", "workplace-specialist"):
        assert dashboard.status_code == 200
        figure = re.search(r'data-testid="articles">(\d+)<', dashboard.text)
        assert figure is not None and int(figure.group(1)) == len(SEARCHABLE[role])
        assert 'data-testid="kpis"' in dashboard.text
    else:
        assert dashboard.status_code == 403
    token = page_csrf(person)
    answers = {}
    for slug in [
        *(s for s in {*PUBLISHED, *UNPUBLISHED, *CHARTERS} if s not in READABLE[role]),
        ABSENT,
    ]:
        response = person.post(
            "/feedback", data={"csrf": token, "target": f"article:{slug}", "helpful": "no"}
        )
        answers[slug] = (response.status_code, _comparable(response.text, slug))
    assert set(answers.values()) == {answers[ABSENT]}
    assert answers[ABSENT][0] == 404


OWNERS = {"admin", "specialist", "workplace-specialist"}
# Every world article is the network team's but the workplace charter.
OWNED = {
    "admin": {*PUBLISHED, *UNPUBLISHED, *CHARTERS},
    "specialist": {*PUBLISHED, *UNPUBLISHED, "team-network"},
    "workplace-specialist": {"team-workplace"},
}


@pytest.mark.parametrize("role", ROLES)
def test_editor_and_review_steps_answer_like_the_api(world: TestClient, role: str) -> None:
    """Owners edit; readers who may not change get 403; contractors and hidden get the 404
    an absent article gets (the same page)."""
    person = _person(world, role)
    absent = person.get(f"/articles/{ABSENT}/edit")
    assert absent.status_code == 404
    token = page_csrf(person)
    for slug in {*PUBLISHED, *UNPUBLISHED, *CHARTERS}:
        page = person.get(f"/articles/{slug}/edit")
        if slug in OWNED.get(role, set()):
            assert page.status_code == 200, (role, slug)
        elif slug in READABLE[role] and role in STAFF:
            assert page.status_code == 403, (role, slug)
        else:
            assert page.status_code == 404, (role, slug)
            assert _comparable(page.text, slug) == _comparable(absent.text, ABSENT), (role, slug)
    for step in ("submit", "publish", "reject"):
        hidden = [s for s in {*PUBLISHED, *UNPUBLISHED, *CHARTERS} if s not in READABLE[role]]
        answers = {
            _answer(person, f"/articles/{slug}/versions/1/{step}", token, slug)
            for slug in [*hidden, ABSENT]
        }
        assert len(answers) == 1, (role, step, answers)


def _answer(person: TestClient, path: str, token: str, slug: str) -> tuple[int, str]:
    response = person.post(path, data={"csrf": token})
    return response.status_code, _comparable(response.text, slug)


@pytest.mark.parametrize("role", ROLES)
def test_workspace_shows_only_the_roles_own_teams(world: TestClient, role: str) -> None:
    page = _person(world, role).get("/workspace")
    if role not in OWNERS:
        assert page.status_code == 403
        return
    assert page.status_code == 200
    mine = page.text.split('id="mine"', 1)[1]
    listed = set(_ARTICLE_LINK.findall(mine))
    assert listed == OWNED[role] & READABLE[role]


# Who may draft an article from a gap of `team` (the API's POST /gaps/{key}/draft).
DRAFTERS = {"admin": {"network", "workplace"}, "specialist": {"network"},
            "workplace-specialist": {"workplace"}}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_drafting_a_gap_from_the_dashboard_answers_like_the_api(
    world: TestClient, role: str
) -> None:
    """Owners of the gap's team draft it and land on the draft; other staff get 403; a
    contractor gets for a gap of tickets exactly the page a key that never existed gets."""
    for number in range(3):
        pushed = world.post(
            "/api/v1/tickets",
            json=ticket(f"B{number}", "Beamer flackert im Besprechungsraum", "", team="workplace"),
        )
        assert pushed.status_code == 201, pushed.text
    gaps = world.get("/api/v1/gaps").json()["gaps"]
    of_tickets = {
        gap["key"]: gap["team"]
        for gap in gaps
        if any(member.startswith("ticket:") for member in gap["members"])
    }
    assert of_tickets
    person = _person(world, role)
    if role in OWNERS:
        page = person.get("/dashboard").text
        offered = set(re.findall(r'action="/dashboard/gaps/(\w+)/draft"', page))
        assert offered == {k for k, team in of_tickets.items() if team in DRAFTERS[role]}
    token = page_csrf(person)
    absent_key = "0" * 16
    absent = person.post(f"/dashboard/gaps/{absent_key}/draft", data={"csrf": token})
    assert absent.status_code == 404
    for key, team in of_tickets.items():
        path = f"/dashboard/gaps/{key}/draft"
        assert person.post(path, data={"csrf": "forged"}).status_code == 403
        answer = person.post(path, data={"csrf": token})
        if team in DRAFTERS.get(role, set()):
            assert answer.status_code == 303, answer.text
            assert answer.headers["location"] == f"/articles/gap-{key}"
            draft = world.get(f"/api/v1/articles/gap-{key}").json()
            assert draft["status"] == "in_review" and draft["team"] == team
            page = person.get("/dashboard").text
            assert f'href="/articles/gap-{key}" data-testid="drafted"' in page
            assert f'action="/dashboard/gaps/{key}/draft"' not in page
        elif role in STAFF:
            assert answer.status_code == 403, (role, key)
        else:
            assert answer.status_code == 404, (role, key)
            seen = _CSRF_VALUE.sub("csrf", answer.text).replace(key, "<key>")
            assert seen == _CSRF_VALUE.sub("csrf", absent.text).replace(absent_key, "<key>")
