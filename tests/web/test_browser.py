"""Journeys through the pages in a real browser: Debian's Chromium driven by Playwright.

One server (the demo knowledge base, the bundled models) and one browser for the module;
each journey gets its own browser context (cookies, language). Chromium missing is a
failure, not a skip: `make test` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from app.auth import CLI_PRINCIPAL
from app.main import create_app
from app.services.keys import create_key
from db.session import create_db_engine, session_factory
from index.embedder import Embedder
from tests.app.test_gaps_api import PROJECTOR
from tests.auth_helpers import bearer
from tests.factories import ticket
from tests.knowledge_base import DATABASE_FILE, KnowledgeBase, copy_knowledge_base, kb_settings
from tests.live_server import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CONTRACTOR_COMPANY = "NordNetz Services GmbH"
# What a NordNetz contractor may read of the repository's articles: public ones, partner
# ones for every partner, and those naming NordNetz (see articles/*.md front matter).
NORDNETZ_MAY_SEE = {
    "mfa-new-phone",
    "outlook-asks-repeatedly-for-password",
    "phishing-mail-melden",
    "vpn-client-verbindet-nicht",
    "contractor-collaboration-guideline",
    "vpn-drops-every-few-minutes",
    "team-network",
}
# Internal articles that mention VPN: the contractor must never see them.
# Seconds for an API call that mines the gaps (the real model encodes every ticket).
SLOW = 120.0
INTERNAL_VPN = {
    "wlan-zertifikatsfehler",
    "netzlaufwerk-zugriff-verweigert",
    "eskalationsrichtlinie-first-level",
}


class Site:
    def __init__(self, base: str, keys: dict[str, str]) -> None:
        self.base = base
        self.keys = keys


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    demo_knowledge_base: KnowledgeBase,
    real_embedder: Embedder,
    real_second_embedder: Embedder,
) -> Iterator[Site]:
    data_dir = copy_knowledge_base(demo_knowledge_base, tmp_path_factory.mktemp("web") / "data")
    engine = create_db_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    try:
        with session_factory(engine)() as session, session.begin():
            _, nordnetz = create_key(
                session,
                actor=CLI_PRINCIPAL,
                name="nordnetz",
                role="contractor",
                teams=[],
                company=CONTRACTOR_COMPANY,
            )
    finally:
        engine.dispose()
    app = create_app(
        kb_settings(data_dir), embedder=real_embedder, second_embedder=real_second_embedder
    )
    with serve(app) as base:
        yield Site(base, {**demo_knowledge_base.keys, "nordnetz": nordnetz})


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make chromium` installs it"
    playwright: Playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()
    finally:
        playwright.stop()


def _shoot(page: Page, name: str) -> None:
    """With STELLWERK_SCREENSHOTS=<folder>, keep a PNG of the page (docs/screenshots)."""
    folder = os.environ.get("STELLWERK_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _page(chromium: Browser, locale: str) -> Page:
    context = chromium.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    return context.new_page()


def _sign_in(page: Page, site: Site, key: str, *, label: str, button: str) -> None:
    page.goto(f"{site.base}/")
    assert page.url.startswith(f"{site.base}/login")  # no session: to the sign-in
    page.get_by_label(label).fill(key)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(f"{site.base}/")


def test_agent_enters_a_german_ticket_sees_the_fix_and_team_and_marks_it_helpful(
    site: Site, chromium: Browser
) -> None:
    page = _page(chromium, "de-DE")
    page.goto(f"{site.base}/login")
    _shoot(page, "login")
    # Keyboard only: the key field has the focus, Enter signs in; focus is always visible.
    expect(page.get_by_label("Ihr API-Schlüssel")).to_be_focused()
    page.keyboard.type(site.keys["agent"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip).to_be_focused()
    outline = skip.evaluate("link => getComputedStyle(link).outlineStyle")
    assert outline == "solid"
    expect(page.get_by_role("heading", name="Neues Ticket")).to_be_visible()
    page.get_by_label("Titel").fill("Outlook startet nicht mehr nach dem Update")
    page.get_by_label("Beschreibung").fill(
        "Seit dem Office-Update bleibt Outlook beim Start hängen."
    )
    page.get_by_label("Ticketnummer (optional)").fill("demo:WEB-1")
    _shoot(page, "console")
    page.get_by_role("button", name="Vorschlagen").click()
    fix = page.locator("#fix")
    expect(fix).to_contain_text("Bewährte Lösung")
    expect(
        page.locator("section.fix a[href='/articles/outlook-startet-nicht-nach-update']")
    ).to_be_visible()
    expect(page.get_by_test_id("team")).to_contain_text("messaging")
    expect(page.get_by_test_id("action")).to_have_text(
        "Im First Level mit der bewährten Lösung lösen."
    )
    _shoot(page, "suggestion")
    page.locator("#fb-fix").get_by_role("button", name="Hilfreich", exact=True).click()
    expect(page.locator("#fb-fix")).to_contain_text("Danke: als hilfreich markiert.")
    stats = httpx.get(f"{site.base}/api/v1/stats", headers=bearer(site.keys["admin"])).json()
    assert stats["helpful"] == 1
    page.context.close()


def test_contractor_searches_a_word_and_sees_exactly_what_they_may(
    site: Site, chromium: Browser
) -> None:
    page = _page(chromium, "en-US")
    _sign_in(page, site, site.keys["nordnetz"], label="Your API key", button="Sign in")
    expect(page.get_by_test_id("company")).to_have_text(CONTRACTOR_COMPANY)
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search for").fill("VPN")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Results", exact=False)).to_be_visible()
    ids = page.locator("li[data-id]").evaluate_all("items => items.map(i => i.dataset.id)")
    slugs = {i.removeprefix("article:") for i in ids}
    assert all(i.startswith("article:") for i in ids), ids  # tickets are internal
    assert slugs <= NORDNETZ_MAY_SEE, slugs - NORDNETZ_MAY_SEE
    assert {"vpn-drops-every-few-minutes", "vpn-client-verbindet-nicht"} <= slugs  # partner, public
    assert not slugs & INTERNAL_VPN
    assert page.locator("mark").count() > 0  # the matched word is highlighted
    api = httpx.post(
        f"{site.base}/api/v1/search",
        json={"query": "VPN", "k": 20},
        headers=bearer(site.keys["nordnetz"]),
    ).json()["hits"]
    assert [h["id"] for h in api] == ids  # the page shows what the API answers, in order
    _shoot(page, "search")
    page.get_by_role("link", name="Shared with you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Shared with {CONTRACTOR_COMPANY}")
    listed = page.locator("table.list a").evaluate_all("links => links.map(a => a.pathname)")
    assert {path.removeprefix("/articles/") for path in listed} == NORDNETZ_MAY_SEE
    _shoot(page, "portal")
    hidden = page.goto(f"{site.base}/articles/wlan-zertifikatsfehler")
    assert hidden is not None and hidden.status == 404
    absent = page.goto(f"{site.base}/articles/no-such-article")
    assert absent is not None and absent.status == 404
    _shoot(page, "not-found")
    page.goto(f"{site.base}/articles/vpn-drops-every-few-minutes")
    expect(page.get_by_role("heading", level=1)).to_contain_text("VPN")
    _shoot(page, "article")
    page.context.close()


def test_admin_opens_the_dashboard_and_switches_to_german(site: Site, chromium: Browser) -> None:
    page = _page(chromium, "en-US")
    _sign_in(page, site, site.keys["admin"], label="Your API key", button="Sign in")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("articles")).to_have_text("30")  # the repository's articles
    assert page.locator('svg[aria-labelledby="by-team"] rect.bar').count() == 7  # one per team
    expect(page.get_by_role("heading", name="KPIs per team")).to_be_visible()
    expect(page.get_by_test_id("kpis")).to_be_visible()
    # The gaps section shows what GET /api/v1/gaps answers for the same range and team.
    expect(page.get_by_role("heading", name="Knowledge gaps")).to_be_visible()
    page.get_by_label("From").fill("2026-01-01")  # the demo tickets' year
    page.get_by_role("button", name="Show").first.click()
    page.locator("select[name=team]").select_option("workplace")
    page.get_by_role("button", name="Show").last.click()
    expect(page.locator("select[name=team]")).to_have_value("workplace")
    answer = page.request.get(
        f"{site.base}/api/v1/gaps?team=workplace&from=2026-01-01",
        headers={"Authorization": f"Bearer {site.keys['admin']}"},
    ).json()
    expect(page.get_by_test_id("gap-summary")).to_have_text(
        f"Uncovered: {answer['uncovered']} / {answer['candidates']}"
    )
    assert answer["candidates"] == 13  # the demo's workplace tickets
    rows = page.get_by_test_id("gaps").locator("tbody tr[data-gap]")
    expect(rows).to_have_count(len(answer["gaps"]))
    assert page.locator('svg[aria-labelledby="gaps"] rect.bar').count() == min(
        10, len(answer["gaps"])
    )
    _shoot(page, "dashboard")
    page.get_by_role("button", name="DE").click()
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    expect(page.get_by_text("Veröffentlichte Artikel")).to_be_visible()
    expect(page.get_by_role("heading", name="KPIs je Team")).to_be_visible()
    expect(page.get_by_role("heading", name="Wissenslücken")).to_be_visible()
    page.context.close()


def test_specialist_edits_a_second_specialist_approves_and_it_is_searchable_at_once(
    site: Site, chromium: Browser
) -> None:
    slug = "vpn-drops-every-few-minutes"
    author = _page(chromium, "en-US")
    _sign_in(author, site, site.keys["specialist"], label="Your API key", button="Sign in")
    author.goto(f"{site.base}/articles/{slug}/edit")
    source = author.get_by_label("Markdown with front matter")
    source.fill(source.input_value() + "\n\nCheck the Zebrafink tunnel setting first.\n")
    # The live preview (htmx) shows the change before anything is saved.
    expect(author.locator("#preview")).to_contain_text("Zebrafink tunnel setting")
    _shoot(author, "editor")
    author.get_by_role("button", name="Save as draft").click()
    expect(author.get_by_test_id("pending")).to_contain_text("draft")
    author.get_by_role("button", name="Submit for review").click()
    expect(author.get_by_test_id("pending")).to_contain_text("in review")
    expect(author.get_by_role("button", name="Approve and publish")).to_have_count(0)
    author.context.close()

    reviewer = _page(chromium, "de-DE")
    _sign_in(
        reviewer, site, site.keys["network-reviewer"], label="Ihr API-Schlüssel", button="Anmelden"
    )
    reviewer.get_by_role("link", name="Arbeitsplatz").click()
    queue = reviewer.locator("section[aria-labelledby=queue]")
    expect(queue).to_contain_text("in Prüfung")
    _shoot(reviewer, "workspace")
    queue.get_by_role("link").first.click()
    reviewer.get_by_role("button", name="Freigeben und veröffentlichen").click()
    expect(reviewer.locator(".article-body")).to_contain_text("Zebrafink tunnel setting")
    reviewer.goto(f"{site.base}/search?q=Zebrafink")
    first = reviewer.locator("li[data-id]").first
    expect(first).to_have_attribute("data-id", f"article:{slug}")
    expect(first.locator("mark")).to_have_text("Zebrafink")
    reviewer.context.close()


def test_a_contractor_rates_a_handover_and_the_dashboard_and_digest_show_it(
    site: Site, chromium: Browser
) -> None:
    recorded = httpx.post(
        f"{site.base}/api/v1/escalations",
        json={"ticket_source": "demo", "ticket_id": "WEB-9", "suggested_team": "identity",
              "first_team": "identity", "final_team": "network"},
        headers=bearer(site.keys["agent"]),
    )  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    page = _page(chromium, "en-US")
    _sign_in(page, site, site.keys["nordnetz"], label="Your API key", button="Sign in")
    page.goto(f"{site.base}/handovers/demo/WEB-9")
    expect(page.get_by_test_id("handover-team")).to_have_text("Handed to team network.")
    clarity = page.locator('form[data-aspect="clarity"]')
    assert page.locator("form.pulse-form").count() == 2  # clarity and documentation
    clarity.get_by_label("4").check()
    clarity.get_by_label("Comment").fill("Clear enough; reach me at anna@nordnetz.example")
    clarity.get_by_role("button", name="Send rating").click()
    expect(page.locator("section.pulse").first).to_contain_text("Thank you for your rating.")
    _shoot(page, "handover")
    today = httpx.get(f"{site.base}/api/v1/pulses", headers=bearer(site.keys["nordnetz"])).json()
    assert [c["comment"] for c in today["comments"]] == ["Clear enough; reach me at [E-Mail]"]
    week = today["end"]
    page.goto(f"{site.base}/digests")
    page.get_by_role("link", name=CONTRACTOR_COMPANY).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(CONTRACTOR_COMPANY)
    page.goto(f"{site.base}/digests/firm/{CONTRACTOR_COMPANY}?week={week}")
    expect(page.get_by_test_id("digest-satisfaction")).to_contain_text("contractor / clarity")
    expect(page.get_by_test_id("reassigned")).to_have_text("1")  # identity -> network
    page.context.close()

    lead = _page(chromium, "de-DE")
    _sign_in(lead, site, site.keys["admin"], label="Ihr API-Schlüssel", button="Anmelden")
    lead.goto(f"{site.base}/dashboard?to={week}")
    chart = lead.get_by_test_id("satisfaction-chart")
    expect(chart).to_contain_text("network · contractor/clarity")
    expect(chart).to_contain_text("4.0 (1)")
    expect(lead.get_by_role("heading", name="Zufriedenheit je Team und Seite")).to_be_visible()
    expect(lead.get_by_role("heading", name="Schulungsthemen")).to_be_visible()
    _shoot(lead, "dashboard-loop")
    lead.context.close()


def test_a_team_lead_filters_every_chart_by_team_and_drafts_an_article_from_a_gap(
    site: Site, chromium: Browser
) -> None:
    """The range and team reach every chart as the API answers them; the projector tickets
    no article covers are a gap of workplace, which its specialist drafts from the page."""
    admin, lead_key = bearer(site.keys["admin"]), bearer(site.keys["workplace-specialist"])
    api = httpx.Client(base_url=site.base, timeout=SLOW)  # gaps are mined with the real model
    for number, title, fix in PROJECTOR:
        pushed = api.post(
            "/api/v1/tickets",
            json=ticket(f"WEB-{number}", title, "", team="workplace", resolution=fix),
            headers=admin,
        )
        assert pushed.status_code == 201, pushed.text
    recorded = api.post(
        "/api/v1/escalations",
        json={"ticket_source": "demo", "ticket_id": "WEB-20", "suggested_team": "identity",
              "first_team": "identity", "final_team": "network"},
        headers=bearer(site.keys["agent"]),
    )  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    rating = {"ticket_source": "demo", "ticket_id": "WEB-20", "aspect": "clarity", "rating": 3}
    rated = api.post("/api/v1/pulses", json=rating, headers=bearer(site.keys["nordnetz"]))
    assert rated.status_code == 201, rated.text

    page = _page(chromium, "en-US")
    page.set_default_navigation_timeout(SLOW * 1000)  # each load mines the gaps
    _sign_in(page, site, site.keys["workplace-specialist"], label="Your API key", button="Sign in")
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_label("From", exact=True).fill("2026-01-01")
    page.locator("select[name=team]").select_option("network")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**team=network**")
    expect(page.get_by_test_id("scope")).to_contain_text("Figures of team network from")
    today = page.get_by_label("To", exact=True).input_value()
    query = {"from": "2026-01-01", "to": today, "team": "network"}
    pulses = api.get("/api/v1/pulses", params=query, headers=lead_key).json()
    satisfaction = page.get_by_test_id("satisfaction-chart")
    for figure in pulses["figures"]:
        expect(satisfaction).to_contain_text(f"network · {figure['side']}/{figure['aspect']}")
    expect(satisfaction).to_contain_text("network · contractor/clarity")
    kpi_teams = page.locator("table[data-testid=kpis] tr[data-team]").evaluate_all(
        "rows => rows.map(r => r.dataset.team)"
    )
    assert set(kpi_teams) <= {"network"}, kpi_teams
    expect(page.get_by_role("heading", name="Suggestions per month")).to_be_visible()
    months = int(today[5:7])  # January to this month, empty months included
    assert page.locator("svg[data-testid=trend-chart] rect.bar").count() == months
    by_team = page.locator('svg[aria-labelledby="by-team"] text.label').all_text_contents()
    assert by_team == ["network"]

    page.locator("select[name=team]").select_option("workplace")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**team=workplace**")
    expect(page.locator("select[name=team]")).to_have_value("workplace")
    expect(satisfaction).not_to_contain_text("network")  # network's rating is not workplace's
    gaps = api.get("/api/v1/gaps", params={**query, "team": "workplace"}, headers=lead_key).json()
    rows = page.get_by_test_id("gaps").locator("tbody tr[data-gap]")
    expect(rows).to_have_count(len(gaps["gaps"]))
    projector = {f"ticket:test:WEB-{number}" for number, _, _ in PROJECTOR}
    gap = next(g for g in gaps["gaps"] if projector <= set(g["members"]))
    assert gap["team"] == "workplace"
    _shoot(page, "dashboard-team")
    page.locator(f"tr[data-gap='{gap['key']}']").get_by_role(
        "button", name="Draft an article"
    ).click()
    page.wait_for_url(f"{site.base}/articles/gap-{gap['key']}")
    expect(page.get_by_test_id("pending")).to_contain_text("in review")
    draft = api.get(f"/api/v1/articles/gap-{gap['key']}/versions/1", headers=lead_key).json()
    assert draft["author"] == "workplace-specialist"
    assert all(f"`{ref}`" in draft["markdown"] for ref in projector)  # it cites its tickets

    page.go_back()
    page.reload()
    row = page.locator(f"tr[data-gap='{gap['key']}']")
    expect(row.get_by_test_id("drafted")).to_have_attribute("href", f"/articles/gap-{gap['key']}")
    expect(row.get_by_role("button", name="Draft an article")).to_have_count(0)
    page.get_by_role("button", name="DE").click()
    expect(page.get_by_role("heading", name="Vorschläge je Monat")).to_be_visible()
    expect(row.get_by_role("link", name="Entwurf in Prüfung")).to_be_visible()
    expect(page.get_by_test_id("scope")).to_contain_text("Zahlen des Teams workplace vom")
    page.context.close()
    api.close()
