"""KPI figures against hand-computed values on a seeded scenario (SQLite and PostgreSQL),
and who sees which figures through GET /api/v1/kpis (issue 12, item 2).

Weeks: W1 = 2026-11-02 (Monday) to 11-08, W2 = 11-09 to 11-15; "now" is 11-16 12:00 UTC."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.auth import CLI_PRINCIPAL
from app.cli import cli
from app.services.kpis import kpis
from app.services.visibility import Visibility
from app.settings import Settings
from db.kpi_rollups import rebuild
from db.models import (
    Article,
    ArticleVersion,
    EscalationOutcome,
    Feedback,
    SearchEvent,
    SolutionLink,
    SuggestionEvent,
    SuggestionShown,
    Task,
    Ticket,
)
from tests.auth_helpers import bearer, factory_of, keys_of
from tests.web.helpers import browser, sign_in

W1, W2 = "2026-11-02", "2026-11-09"
NOW = datetime(2026, 11, 16, 12, tzinfo=UTC)
RANGE = {"from": "2026-11-02", "to": "2026-11-15"}


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _event(
    session: Session,
    when: datetime,
    *,
    ticket: str,
    team: str,
    confidence: float,
    action: str,
    actor: str = "agent",
    company: str | None = None,
    shown: tuple[str, ...] = (),
) -> None:
    event = SuggestionEvent(
        at=when,
        channel="api",
        actor=actor,
        role="contractor" if company else "agent",
        company=company,
        ticket_source="zammad",
        ticket_id=ticket,
        team=team,
        confidence=confidence,
        action=action,
    )
    session.add(event)
    session.flush()
    for rank, target in enumerate(shown, start=1):
        session.add(SuggestionShown(event_id=event.id, rank=rank, target=target))


def _article(session: Session, slug: str, team: str, created: datetime, **extra: Any) -> Article:
    article = Article(
        slug=slug,
        title=slug,
        team=team,
        body="",
        source_markdown="",
        content_hash=slug,
        created_at=created,
        **extra,
    )
    session.add(article)
    session.flush()
    return article


def seed(session: Session) -> None:
    first_level = "resolve_at_first_level"
    _event(session, at(3), ticket="1", team="network", confidence=0.95, action=first_level,
           shown=("article:vpn", "article:wifi"))  # fmt: skip
    _event(session, at(4), ticket="2", team="network", confidence=0.8, action=first_level,
           shown=("article:vpn",))  # fmt: skip
    _event(session, at(5), ticket="3", team="network", confidence=0.6, action="escalate",
           actor="contractor", company="NetPartner GmbH")  # fmt: skip
    _event(session, at(6), ticket="7", team="network", confidence=0.9, action=first_level,
           shown=("article:wifi",))  # fmt: skip
    _event(session, at(10), ticket="4", team="workplace", confidence=0.3, action="escalate")
    _event(session, at(11), ticket="5", team="network", confidence=0.92, action="dispatcher",
           actor="other-contractor", company="Acme GmbH")  # fmt: skip
    _event(session, at(20, month=10), ticket="6", team="network", confidence=0.9,
           action="escalate")  # fmt: skip
    for source, number, suggested, final, day in (
        ("zammad", "3", "network", "network", 6),
        ("zammad", "4", "workplace", "network", 12),
        ("zammad", "5", "network", "network", 12),
        ("jira", "9", "network", "workplace", 13),
    ):
        session.add(
            EscalationOutcome(
                ticket_source=source, ticket_id=number, suggested_team=suggested,
                final_team=final, actor="agent", created_at=at(day),
            )
        )  # fmt: skip
    for source, number, team, resolved in (
        ("zammad", "1", "network", at(3)),
        ("zammad", "2", "network", at(4)),
        ("demo", "X", "workplace", at(10)),
        ("old", "T", "network", at(1, month=10)),
    ):
        session.add(
            Ticket(
                source=source, external_id=number, title="t", description="d", team=team,
                resolved_at=resolved, content_hash=f"{source}{number}",
            )
        )  # fmt: skip
    for source, number, slug, when in (
        ("zammad", "1", "vpn", at(3)),
        ("demo", "X", "printer", at(10)),
        ("old", "T", "vpn", at(1, month=10)),
    ):
        session.add(
            SolutionLink(
                ticket_source=source, ticket_id=number, article_slug=slug, actor="agent",
                created_at=when,
            )
        )  # fmt: skip
    vpn = _article(session, "vpn", "network", at(2), review_by=date(2026, 11, 1))
    _article(session, "wifi", "network", at(1, month=10))
    printer = _article(session, "printer", "workplace", at(9), review_by=date(2027, 1, 1))
    _article(session, "net-charter", "network", at(2), kind="team")
    _article(session, "draft-one", "network", at(3), status="draft")
    for article, version, state, created, reviewed in (
        (vpn, 1, "superseded", at(2, 8), at(3, 8)),
        (vpn, 2, "published", at(4, 0), at(4, 12)),
        (vpn, 3, "draft", at(5, 0), None),
        (printer, 1, "published", at(9, 0), at(11, 0)),
    ):
        session.add(
            ArticleVersion(
                article_id=article.id, number=version, state=state, markdown="", content_hash="h",
                author="a", created_at=created, reviewed_at=reviewed,
            )
        )  # fmt: skip
    for actor, target, team, helpful, when in (
        ("agent", "article:vpn", "network", True, at(4, 12)),
        ("agent", "article:wifi", "network", False, at(6, 12)),
        ("specialist", "article:printer", "workplace", True, at(12)),
        ("agent", "article:vpn", "network", True, at(1, month=10)),
    ):
        session.add(
            Feedback(
                target=target, team=team, context="suggest", helpful=helpful, actor=actor,
                created_at=when,
            )
        )  # fmt: skip
    for company, results, when in (
        (None, 3, at(3)),
        (None, 0, at(4)),
        ("NetPartner GmbH", 0, at(10)),
        ("Acme GmbH", 2, at(11)),
        (None, 0, at(1, month=10)),
    ):
        session.add(
            SearchEvent(
                at=when, channel="api", role="contractor" if company else "agent",
                company=company, query="q", results=results,
            )
        )  # fmt: skip
    for team, status, created in (
        ("network", "open", at(6, 12)),
        ("network", "open", at(14, 12)),
        ("workplace", "done", at(7)),
    ):
        session.add(
            Task(team=team, status=status, reason="feedback", target="t", created_at=created)
        )
    session.flush()
    rebuild(session)  # rows added directly: the rollups as an upgrade fills them


def _seeded(client: TestClient) -> None:
    with factory_of(client)() as session, session.begin():
        seed(session)


def test_kpis_match_the_hand_computed_figures(client: TestClient) -> None:
    _seeded(client)
    with factory_of(client)() as session:
        figures = kpis(
            session, Visibility(CLI_PRINCIPAL), start=date(2026, 11, 2), end=date(2026, 11, 15),
            now=NOW,
        )  # fmt: skip
    body = figures.model_dump(mode="json")
    suggestions = [
        (s["period"], s["team"], s["suggestions"], s["escalated"], s["escalation_rate"],
         s["first_level"], s["first_level_confirmed"], s["first_level_confirmed_rate"])
        for s in body["suggestions"]
    ]  # fmt: skip
    # W1 network: e1 linked, e2 marked helpful after it, e7 only a not-helpful mark.
    assert suggestions == [
        (W1, "network", 4, 1, 0.25, 3, 2, 0.6667),
        (W2, "network", 1, 0, 0.0, 0, 0, None),
        (W2, "workplace", 1, 1, 1.0, 0, 0, None),
    ]
    routing = [
        (r["period"], r["team"], r["band"], r["outcomes"], r["agreed"], r["accuracy"],
         r["mean_confidence"])
        for r in body["routing"]
    ]  # fmt: skip
    assert routing == [
        (W1, "network", "0.5-0.7", 1, 1, 1.0, 0.6),
        (W2, "network", "0.9-1.0", 1, 1, 1.0, 0.92),
        (W2, "network", "unknown", 1, 0, 0.0, None),
        (W2, "workplace", "0.0-0.5", 1, 0, 0.0, 0.3),
    ]

    def shares(name: str) -> list[tuple[Any, ...]]:
        return [(r["period"], r["team"], r["total"], r["count"], r["share"]) for r in body[name]]

    assert shares("searches") == [(W1, None, 2, 1, 0.5), (W2, None, 2, 1, 0.5)]
    assert shares("link_rate") == [(W1, "network", 2, 1, 0.5), (W2, "workplace", 1, 1, 1.0)]
    reuse = [tuple(r.values()) for r in body["reuse"]]
    assert reuse == [(W1, "network", 1, 2, 0.5), (W2, "workplace", 1, 1, 1.0)]
    assert shares("never_reused") == [(None, "network", 2, 1, 0.5), (None, "workplace", 1, 0, 0.0)]
    assert shares("stale") == [(None, "network", 3, 1, 0.3333), (None, "workplace", 1, 0, 0.0)]
    assert shares("feedback") == [(W1, "network", 2, 1, 0.5), (W2, "workplace", 1, 1, 1.0)]
    durations = [tuple(r.values()) for r in body["draft_to_published"]]
    assert durations == [(W1, "network", 2, 18.0), (W2, "workplace", 1, 48.0)]
    assert [(r["target"], r["total"], r["helpful"]) for r in body["feedback_by_article"]] == [
        ("article:printer", 1, 1),
        ("article:vpn", 1, 1),
        ("article:wifi", 1, 0),
    ]
    assert body["open_tasks"] == [
        {"team": "network", "open": 2, "mean_age_days": 6.0, "max_age_days": 10.0}
    ]


def test_kpis_by_month_and_for_one_team(client: TestClient) -> None:
    _seeded(client)
    answer = client.get("/api/v1/kpis", params={**RANGE, "interval": "month", "team": "workplace"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(s["period"], s["team"], s["suggestions"]) for s in body["suggestions"]] == [
        ("2026-11-01", "workplace", 1)
    ]
    assert [(r["team"], r["outcomes"]) for r in body["routing"]] == [("workplace", 1)]
    assert body["scope"] == "all"


def test_a_contractor_sees_only_its_own_firms_figures(client: TestClient) -> None:
    _seeded(client)
    keys = keys_of(client)
    mine = client.get("/api/v1/kpis", params=RANGE, headers=bearer(keys["contractor"])).json()
    assert mine["scope"] == "firm"
    own = [(s["period"], s["team"], s["suggestions"], s["escalated"]) for s in mine["suggestions"]]
    assert own == [(W1, "network", 1, 1)]
    assert [(r["period"], r["total"], r["count"]) for r in mine["searches"]] == [(W2, 1, 1)]
    assert [(r["period"], r["band"], r["outcomes"]) for r in mine["routing"]] == [
        (W1, "0.5-0.7", 1)
    ]
    hidden = ("link_rate", "reuse", "never_reused", "draft_to_published", "stale", "feedback",
              "feedback_by_article", "open_tasks")  # fmt: skip
    assert all(mine[name] is None for name in hidden)
    other = client.get("/api/v1/kpis", params=RANGE, headers=bearer(keys["other-contractor"]))
    theirs = other.json()
    assert [(s["period"], s["suggestions"]) for s in theirs["suggestions"]] == [(W2, 1)]
    assert [(r["band"], r["agreed"]) for r in theirs["routing"]] == [("0.9-1.0", 1)]
    export = client.get("/api/v1/kpis/export", params=RANGE, headers=bearer(keys["contractor"]))
    assert export.text.splitlines() == [
        "family,period,team,key,total,count,share",
        f"escalation,{W1},network,,1,1,1.0",
        f"first_level_confirmed,{W1},network,,0,0,",
        f"routing,{W1},network,0.5-0.7,1,1,1.0",
        f"searches_without_results,{W2},,,1,1,1.0",
    ]


def test_kpis_csv_export_and_bad_ranges(client: TestClient) -> None:
    _seeded(client)
    export = client.get("/api/v1/kpis/export", params=RANGE)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.splitlines()
    assert lines[0] == "family,period,team,key,total,count,share"
    assert f"escalation,{W1},network,,4,1,0.25" in lines
    assert f"link_rate,{W1},network,,2,1,0.5" in lines
    backwards = client.get("/api/v1/kpis", params={"from": "2026-11-15", "to": "2026-11-02"})
    assert backwards.status_code == 422
    assert backwards.json()["error"]["details"][0]["field"] == "from"
    assert client.get("/api/v1/kpis", params={"from": "2026-13-01"}).status_code == 422
    assert client.get("/api/v1/kpis", params={"to": "0"}).status_code == 422  # no Unix time
    assert client.get("/api/v1/kpis", params={"interval": "day"}).status_code == 422


def test_cli_prints_the_same_figures_as_json_and_csv(
    settings: Settings, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory() as session, session.begin():
        seed(session)
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STELLWERK_DATABASE_URL", str(settings.database_url))
    args = ["kpis", "--from", "2026-11-02", "--to", "2026-11-15"]
    result = CliRunner().invoke(cli, [*args, "--json", "--interval", "month"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [(s["period"], s["team"], s["suggestions"]) for s in body["suggestions"]] == [
        ("2026-11-01", "network", 5),
        ("2026-11-01", "workplace", 1),
    ]
    table = CliRunner().invoke(cli, args)
    assert f"escalation,{W1},network,,4,1,0.25" in table.stdout.splitlines()
    wrong = CliRunner().invoke(cli, ["kpis", "--from", "2026-11-15", "--to", "2026-11-02"])
    assert wrong.exit_code == 1


def test_the_dashboard_shows_the_kpis_per_team_in_both_languages(client: TestClient) -> None:
    _seeded(client)
    person = browser(client)
    sign_in(person, keys_of(client)["admin"])
    page = person.get("/dashboard", params=RANGE)
    assert page.status_code == 200, page.text
    row = re.search(r'<tr data-team="network">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    # 5 suggestions, 1 escalated; 2 of 3 first-level confirmed; outcomes 2 of 3 agreed;
    # 1 of 2 resolved tickets linked; 1 of 2 marks helpful; 1 of 3 stale; 2 open tasks.
    assert cells == ["network", "5", "20 %", "67 %", "67 %", "50 %", "50 %", "33 %", "2"]
    assert "Escalation rate per team" in page.text
    assert page.text.count('class="mark"') == 3  # bands with a known confidence
    german = person.get("/dashboard", params=RANGE, headers={"Accept-Language": "de"})
    assert "Eskalationsquote je Team" in german.text
    assert (
        person.get("/dashboard", params={"from": "2026-11-15", "to": "2026-11-02"}).status_code
        == 422
    )
