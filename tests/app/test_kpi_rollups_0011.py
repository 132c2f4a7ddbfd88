"""The rollups of 0011 against hand-computed figures and a rebuild from the tables, on
SQLite and PostgreSQL: a ticket's first suggestion (routing's band), first-level fix
cases dated at their earlier evidence (training), resolved and linked tickets per day
(the link rate, also against the query it replaced)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.auth import Principal
from app.schemas.links import LinkIn
from app.services.events import prune
from app.services.kpis import routing_kpis
from app.services.kpis_knowledge import link_rate
from app.services.kpis_sql import window
from app.services.links import link_solution
from app.services.training import training
from app.services.visibility import Visibility
from db.first_suggestions import suggested
from db.fix_rollups import linked, offered
from db.kpi_rollups import rebuild
from db.models import (
    Article,
    EscalationOutcome,
    SolutionLink,
    SuggestionEvent,
    SuggestionShown,
    Ticket,
    utcnow,
)
from ingest.pipeline import ticket_chunks, ticket_hash
from ingest.store import save_ticket
from ingest.tickets import ResolvedTicket
from tests.fakes import HashingEmbedder

AGENT = Principal(key_id=None, name="agent", role="agent", company=None)
FIRM = Principal(key_id=None, name="firm", role="contractor", company="NetPartner GmbH")
FIRST_LEVEL = "resolve_at_first_level"
D1, D2, D3 = (datetime(2026, 11, day, 10, tzinfo=UTC) for day in (2, 4, 6))


def _articles(session: Session, *slugs: str, **extra: Any) -> None:
    for slug in slugs:
        session.add(
            Article(slug=slug, title=slug, team="network", body="", source_markdown="",
                    content_hash=slug, **extra)
        )  # fmt: skip
    session.flush()


def _event(session: Session, at: datetime, ticket: str, **values: Any) -> SuggestionEvent:
    values = {"actor": "agent", "role": "agent", "action": FIRST_LEVEL, **values}
    event = SuggestionEvent(at=at, channel="api", ticket_source="z", ticket_id=ticket,
                            team="network", **values)  # fmt: skip
    session.add(event)
    session.flush()
    return event


def _same_after_rebuild(factory: sessionmaker[Session], figures: Callable[[Session], Any]) -> Any:
    """The figures from the upkeep, asserted equal to those after a rebuild (rolled back)."""
    with factory() as session:
        kept = figures(session)
        rebuild(session)
        assert figures(session) == kept
        session.rollback()
    return kept


def _routing(session: Session) -> dict[str, list[tuple[str, int, float | None]]]:
    today = utcnow().date()
    win = window(session, start=today - timedelta(days=2), end=today, interval="month",
                 team=None, now=utcnow())  # fmt: skip
    return {
        who.name: [(r.band, r.outcomes, r.mean_confidence)
                   for r in routing_kpis(session, win, Visibility(who))]
        for who in (AGENT, FIRM)
    }  # fmt: skip


def test_routing_bands_an_outcome_by_the_first_suggestion_kept_through_the_prune(
    factory: sessionmaker[Session],
) -> None:
    now = utcnow()
    with factory() as session, session.begin():
        older = _event(session, now - timedelta(days=10), "1", confidence=0.3)
        firms = _event(session, now - timedelta(days=1), "1", confidence=0.95,
                       company=FIRM.company, role="contractor")  # fmt: skip
        later = _event(session, now, "1", confidence=0.6)
        # Committed out of order: the lower id still wins, per company.
        for event in (later, firms, older):
            suggested(session, event)
        for ticket, final in (("1", "network"), ("2", "workplace")):
            session.add(EscalationOutcome(ticket_source="z", ticket_id=ticket, final_team=final,
                                          suggested_team="network", actor="agent",
                                          created_at=now))  # fmt: skip
    assert _same_after_rebuild(factory, _routing) == {
        "agent": [("0.0-0.5", 1, 0.3), ("unknown", 1, None)],
        "firm": [("0.9-1.0", 1, 0.95)],  # its own first suggestion; ticket 2 is not its
    }
    with factory() as session, session.begin():
        assert prune(session, 5, now=now) == 1  # the oldest goes; the firm's is next
    assert _same_after_rebuild(factory, _routing) == {
        "agent": [("0.9-1.0", 1, 0.95), ("unknown", 1, None)],
        "firm": [("0.9-1.0", 1, 0.95)],
    }


def _link(session: Session, ticket: str, slug: str, at: datetime) -> None:
    link = SolutionLink(ticket_source="z", ticket_id=ticket, article_slug=slug, actor="agent",
                        created_at=at)  # fmt: skip
    session.add(link)
    session.flush()
    linked(session, link)


def _offer(session: Session, at: datetime, ticket: str, slug: str) -> None:
    event = _event(session, at, ticket)
    session.add(SuggestionShown(event_id=event.id, rank=1, target=f"article:{slug}"))
    offered(session, event, [f"article:{slug}"])


def _escalate(session: Session, ticket: str) -> None:
    offered(session, _event(session, D3, ticket, action="escalate"), [])


def _first_level(session: Session) -> dict[str, list[tuple[str, int]]]:
    """The first-level list over each of the three days, and over all of them."""
    spans = {"d1": (D1, D1), "d2": (D2, D2), "d3": (D3, D3), "all": (D1, D3)}
    seen = {}
    for name, (start, end) in spans.items():
        topics = training(session, Visibility(AGENT), start=start.date(), end=end.date())
        seen[name] = [(t.articles[0].slug, t.count) for t in topics.first_level or []]
    return seen


def test_a_first_level_case_counts_once_on_the_day_of_its_earlier_evidence(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        _articles(session, "vpn", "wifi")
        _articles(session, "expert", front_matter={"first_level": False})
        # 1: linked on D1, offered on D2, escalated after both: dates from D1.
        _link(session, "1", "vpn", D1)
        _offer(session, D2, "1", "vpn")
        _escalate(session, "1")
        # 2: offered on D2, escalated, linked on D3: dates from D2 alone.
        _offer(session, D2, "2", "vpn")
        _escalate(session, "2")
        _link(session, "2", "vpn", D3)
        # 3: offered on D3, escalated, then an older offer arrives (D1): moves to D1.
        _offer(session, D3, "3", "wifi")
        _escalate(session, "3")
        _offer(session, D1, "3", "wifi")
        # 4: a how-to closed to first level counts neither offered nor linked; 5 was
        # never escalated.
        _offer(session, D2, "4", "expert")
        _link(session, "4", "expert", D2)
        _escalate(session, "4")
        _offer(session, D2, "5", "vpn")
    assert _same_after_rebuild(factory, _first_level) == {
        "d1": [("vpn", 1), ("wifi", 1)],
        "d2": [("vpn", 1)],
        "d3": [],
        "all": [("vpn", 2), ("wifi", 1)],
    }


def _save(session: Session, ticket: str, resolved: datetime | None, team: str | None) -> None:
    embedder = HashingEmbedder()
    fields = ResolvedTicket(id=ticket, title=f"ticket {ticket}", source="z", team=team,
                            resolved_at=resolved)  # fmt: skip
    chunks = ticket_chunks(fields, 180)
    existing = session.scalar(
        select(Ticket).where(Ticket.source == "z", Ticket.external_id == ticket)
    )
    save_ticket(session, fields, content_hash=ticket_hash(fields), chunks=chunks,
                vectors=embedder.encode_documents([c.embedding_text() for c in chunks]),
                model_id=embedder.model_id, existing=existing)  # fmt: skip


def _raw_link_rate(session: Session, start: date, end: date) -> list[tuple[Any, ...]]:
    """The link rate as computed before the rollup: every ticket of the range, probed."""
    win = window(session, start=start, end=end, interval="week", team=None, now=utcnow())
    period = win.period(Ticket.resolved_at)
    has_link = (
        select(1)
        .where(SolutionLink.ticket_source == Ticket.source,
               SolutionLink.ticket_id == Ticket.external_id)
        .exists()
    )  # fmt: skip
    query = (
        select(period, Ticket.team, func.count(), func.sum(case((has_link, 1), else_=0)))
        .where(win.within(Ticket.resolved_at))
        .group_by(period, Ticket.team)
    )
    rows = [(str(p), t, int(n), int(k)) for p, t, n, k in session.execute(query)]
    return sorted(rows, key=lambda row: (row[0], row[1] or ""))


def test_link_rate_follows_ingest_and_links_and_equals_the_query_it_replaced(
    factory: sessionmaker[Session],
) -> None:
    week1, week2 = datetime(2026, 11, 4, 9, tzinfo=UTC), datetime(2026, 11, 10, 9, tzinfo=UTC)
    start, end = date(2026, 11, 2), date(2026, 11, 15)

    def figures(session: Session) -> list[tuple[Any, ...]]:
        win = window(session, start=start, end=end, interval="week", team=None, now=utcnow())
        rates = [(r.period, r.team, r.total, r.count) for r in link_rate(session, win)]
        assert rates == _raw_link_rate(session, start, end)
        return rates

    with factory() as session, session.begin():
        _articles(session, "vpn", "wifi")
        visibility = Visibility(AGENT)
        for ticket, slug in (("1", "vpn"), ("2", "vpn"), ("2", "wifi")):
            link = LinkIn(ticket_source="z", ticket_id=ticket, article_slug=slug)
            link_solution(session, principal=AGENT, visibility=visibility, link=link)
            if ticket == "1":
                _save(session, "2", week1, "network")  # 1 is linked before it is ingested
        _save(session, "1", week1, "network")
        _save(session, "3", None, "network")  # no resolution time: in no period
        _save(session, "4", week2, None)
    assert _same_after_rebuild(factory, figures) == [
        ("2026-11-02", "network", 2, 2),
        ("2026-11-09", None, 1, 0),
    ]
    with factory() as session, session.begin():
        _save(session, "2", week2, "workplace")  # resolved again later, by another team
        _save(session, "1", week1, "network")  # saved unchanged
    assert _same_after_rebuild(factory, figures) == [
        ("2026-11-02", "network", 1, 1),
        ("2026-11-09", None, 1, 0),
        ("2026-11-09", "workplace", 1, 1),
    ]
