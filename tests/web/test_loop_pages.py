"""The pages of issue 12's loop: the pulse form on the handover page, the training and
satisfaction charts on the dashboard, the digest pages; each firm sees only its own."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from fastapi.testclient import TestClient

from db.models import utcnow
from tests.app.test_loop import NET, seed
from tests.auth_helpers import bearer, factory_of, keys_of
from tests.web.helpers import browser, page_csrf, sign_in


def _person(client: TestClient, name: str) -> TestClient:
    person = browser(client)
    assert sign_in(person, keys_of(client)[name]).status_code == 303
    return person


def _seeded(client: TestClient) -> None:
    with factory_of(client)() as session, session.begin():
        seed(session)


def test_the_handover_page_takes_the_sides_pulse(client: TestClient) -> None:
    _seeded(client)
    firm = _person(client, "contractor")
    page = firm.get("/handovers/z/7")
    assert page.status_code == 200, page.text
    assert "Handed to team partner-net." in page.text
    assert re.findall(r'data-aspect="(\w+)"', page.text) == ["clarity", "documentation"]
    form = {"csrf": page_csrf(firm, "/handovers/z/7"), "aspect": "clarity", "rating": "4",
            "comment": "Ring me: +49 170 1234567"}  # fmt: skip
    sent = firm.post("/handovers/z/7/pulse", data=form)
    assert sent.status_code == 200 and "Thank you for your rating." in sent.text
    rated = client.get("/api/v1/pulses", headers=bearer(keys_of(client)["contractor"])).json()
    assert [(c["aspect"], c["rating"], c["comment"]) for c in rated["comments"]] == [
        ("clarity", 4, "Ring me: [Telefon]")
    ]
    assert firm.post("/handovers/z/7/pulse", data={**form, "rating": "9"}).status_code == 422
    assert firm.post("/handovers/z/7/pulse", data={**form, "csrf": "x"}).status_code == 403
    # Another firm's handover looks absent; the admin takes no side.
    assert _person(client, "other-contractor").get("/handovers/z/7").status_code == 404
    assert _person(client, "admin").get("/handovers/z/7").status_code == 403
    second = _person(client, "specialist").get("/handovers/z/1")
    assert re.findall(r'data-aspect="(\w+)"', second.text) == ["escalation"]
    assert 'name="right_team"' in second.text


def test_the_dashboard_charts_training_and_satisfaction(client: TestClient) -> None:
    _seeded(client)
    rating = {"ticket_source": "z", "ticket_id": "7", "aspect": "answer", "rating": 5}
    assert client.post("/api/v1/pulses", json=rating,
                       headers=bearer(keys_of(client)["agent"])).status_code == 201  # fmt: skip
    lead = _person(client, "admin")
    days = {"from": "2026-11-02", "to": utcnow().date().isoformat()}
    page = lead.get("/dashboard", params=days)
    assert page.status_code == 200, page.text
    training = re.search(r'data-testid="training-chart".*?</svg>', page.text, re.S)
    assert training is not None
    labels = re.findall(r'class="label">([^<]*)<', training.group(0))
    assert labels[0] == "Title vpn (network)"  # 3 tickets: the largest topic first
    assert re.findall(r'class="value">([^<]*)<', training.group(0))[0] == "3"
    satisfaction = re.search(r'data-testid="satisfaction-chart".*?</svg>', page.text, re.S)
    assert satisfaction is not None
    assert "partner-net · first_level/answer" in satisfaction.group(0)
    assert "5.0 (1)" in satisfaction.group(0)
    german = lead.get("/dashboard", params=days, headers={"Accept-Language": "de"})
    assert "Zufriedenheit je Team und Seite" in german.text and "Schulungsthemen" in german.text


def test_the_digest_pages_show_each_firm_its_own(client: TestClient) -> None:
    _seeded(client)
    firm = _person(client, "contractor")
    listing = firm.get("/digests")
    assert re.findall(r'<a href="/digests/(\w+)/', listing.text) == ["firm"]
    page = firm.get(f"/digests/firm/{NET}", params={"week": "2026-11-11"})
    assert page.status_code == 200, page.text
    assert re.search(r'data-testid="reassigned">1<', page.text)
    assert "No new gaps this week." in page.text
    assert "partner-net -&gt; network" in page.text
    other = _person(client, "other-contractor")
    assert other.get(f"/digests/firm/{NET}").status_code == 404
    assert other.get("/digests/team/partner-net").status_code == 403
    staff = _person(client, "admin").get("/digests")
    assert "/digests/team/partner-net?" in staff.text
    assert "/digests/firm/NetPartner%20GmbH?" in staff.text


def _chart(html: str, testid: str) -> tuple[list[str], list[str]]:
    """The labels and printed values of one of the dashboard's SVG charts."""
    found = re.search(rf'data-testid="{testid}".*?</svg>', html, re.S)
    assert found is not None, testid
    labels = re.findall(r'class="label">([^<]*)<', found.group(0))
    values = re.findall(r'class="value">([^<]*)<', found.group(0))
    return [unescape(text) for text in labels], [unescape(text) for text in values]


def _api(client: TestClient, path: str, params: dict[str, str]) -> Any:
    answer = client.get(path, params=params, headers=bearer(keys_of(client)["admin"]))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_dashboards_team_reaches_every_chart_as_the_api_answers(client: TestClient) -> None:
    _seeded(client)
    rating = {"ticket_source": "z", "ticket_id": "7", "aspect": "answer", "rating": 5}
    assert client.post("/api/v1/pulses", json=rating,
                       headers=bearer(keys_of(client)["agent"])).status_code == 201  # fmt: skip
    lead = _person(client, "admin")
    days = {"from": "2026-11-02", "to": utcnow().date().isoformat()}
    shown: dict[str, list[str]] = {}
    for team in ("network", "partner-net"):
        query = {**days, "team": team}
        page = lead.get("/dashboard", params=query)
        assert page.status_code == 200, page.text
        assert re.search(rf'<option value="{team}" selected>', page.text)
        assert f"Figures of team {team} from" in page.text
        figures = _api(client, "/api/v1/kpis", query)
        families = ("suggestions", "routing", "link_rate", "feedback", "stale", "open_tasks")
        teams = {row["team"] or "-" for f in families for row in figures[f] or []}
        rows = set(re.findall(r'<tr data-team="([^"]*)">', page.text))
        assert rows == teams and rows <= {team}, (team, rows)
        needs = _api(client, "/api/v1/training", query)
        topics = sorted(
            [*(needs["first_level"] or []), *(needs["routing"] or []), *needs["firms"]],
            key=lambda t: (-t["count"], t["topic"]),
        )
        labels, _ = _chart(page.text, "training-chart")
        assert labels == [f"{t['topic']} ({t['firm'] or t['team'] or '-'})" for t in topics[:10]], (
            team
        )
        pulses = _api(client, "/api/v1/pulses", query)
        rated = {f"{f['team']} · {f['side']}/{f['aspect']}" for f in pulses["figures"]}
        labels, _ = _chart(page.text, "satisfaction-chart")
        assert set(labels) == rated, team
        shown[team] = labels
    assert shown["partner-net"] == ["partner-net · first_level/answer"]
    assert shown["network"] == []  # the partner-net rating stays out of network's chart
    everyone = lead.get("/dashboard", params=days)
    assert "Figures of all teams you may see from" in everyone.text
    assert set(re.findall(r'<tr data-team="([^"]*)">', everyone.text)) >= {"network", "partner-net"}


def test_the_dashboards_trend_has_a_bar_for_every_period_of_the_range(client: TestClient) -> None:
    _seeded(client)
    lead = _person(client, "admin")
    weeks = {"from": "2026-11-02", "to": "2026-11-22"}  # three weeks, Monday to Sunday
    page = lead.get("/dashboard", params=weeks)
    assert "Suggestions per week" in page.text
    labels, values = _chart(page.text, "trend-chart")
    assert labels == ["Nov 2, 2026", "Nov 9, 2026", "Nov 16, 2026"]
    figures = _api(client, "/api/v1/kpis", weeks)
    per_week: dict[str, list[int]] = {}
    for row in figures["suggestions"]:
        entry = per_week.setdefault(row["period"], [0, 0])
        entry[0] += row["suggestions"]
        entry[1] += row["escalated"]
    assert [int(v.split()[0]) for v in values] == [
        per_week.get(day, [0, 0])[0] for day in ("2026-11-02", "2026-11-09", "2026-11-16")
    ]
    assert sum(int(v.split()[0]) for v in values) > 0  # the seed's suggestions are there
    months = lead.get("/dashboard", params={"from": "2026-01-15", "to": "2026-11-22"})
    labels, _ = _chart(months.text, "trend-chart")
    assert "Suggestions per month" in months.text and len(labels) == 11  # Jan to Nov
