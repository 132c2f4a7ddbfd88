"""The pages of issue 12's loop: the pulse form on the handover page, the training and
satisfaction charts on the dashboard, the digest pages; each firm sees only its own."""

from __future__ import annotations

import re

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
