"""The KPI rollups follow every write that changes a figure (a suggestion, a search, a
link, a helpful mark, an outcome, the retention prune) and agree with a rebuild from the
events, on SQLite and PostgreSQL; an upgrade from 0009 fills them from stored events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from alembic import command
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.auth import Principal
from app.cli import cli
from app.schemas.feedback import FeedbackIn
from app.schemas.links import LinkIn
from app.schemas.outcomes import OutcomeIn
from app.services.events import prune, record_search, record_suggestion
from app.services.feedback import give_feedback
from app.services.kpis import kpis
from app.services.links import link_solution
from app.services.outcomes import record_outcome
from app.services.suggest import Suggestion
from app.services.training import training
from app.services.visibility import Visibility
from db.kpi_rollups import rebuild
from db.models import Article, UtcDateTime, utcnow
from db.session import alembic_config, create_db_engine, session_factory

AGENT = Principal(key_id=None, name="agent", role="agent", company=None)
FIRM = Principal(key_id=None, name="firm", role="contractor", company="NetPartner GmbH")
FIRST_LEVEL = "resolve_at_first_level"


def _suggest(
    session: Session, who: Principal, ticket: str, action: str, shown: tuple[str, ...] = ()
) -> None:
    suggestion = SimpleNamespace(
        team=SimpleNamespace(name="network", confidence=0.8),
        escalation=SimpleNamespace(action=action, team="network" if action == "escalate" else None),
        solutions=[SimpleNamespace(id=target) for target in shown],
    )
    record_suggestion(
        session,
        principal=who,
        channel="api",
        suggestion=cast(Suggestion, suggestion),
        ticket=("z", ticket),
        retention_days=400,
    )


def _search(session: Session, who: Principal, results: int) -> None:
    hits = [SimpleNamespace(score=0.5)] * results
    record_search(
        session, principal=who, channel="api", query="q", hits=cast(Any, hits), retention_days=400
    )


def _articles(session: Session) -> None:
    for slug in ("vpn", "wifi"):
        session.add(
            Article(slug=slug, title=slug, team="network", body="", source_markdown="",
                    content_hash=slug)
        )  # fmt: skip


def _figures(session: Session) -> dict[str, Any]:
    """The suggestion, search and training figures over the last days, staff and firm."""
    today = utcnow().date()
    start, end = today - timedelta(days=2), today + timedelta(days=1)
    seen: dict[str, Any] = {}
    for who in (AGENT, FIRM):
        visibility = Visibility(who)
        page = kpis(session, visibility, start=start, end=end)
        # Summed over the periods: the span may cross a week's start.
        routing: dict[str, list[int]] = {}
        for r in page.routing:
            row = routing.setdefault(r.band, [0, 0])
            row[0], row[1] = row[0] + r.outcomes, row[1] + r.agreed
        seen[who.name] = {
            "suggestions": [sum(column) for column in zip(*(
                (r.suggestions, r.escalated, r.first_level, r.first_level_confirmed)
                for r in page.suggestions), strict=True)],
            "searches": [sum(column) for column in zip(*(
                (r.total, r.count) for r in page.searches), strict=True)],
            "routing": sorted((band, n, k) for band, (n, k) in routing.items()),
        }  # fmt: skip
        topics = training(session, visibility, start=start, end=end).first_level or []
        seen[who.name]["training"] = sorted((t.articles[0].slug, t.count) for t in topics)
    return seen


def _rebuilt(factory: sessionmaker[Session]) -> dict[str, Any]:
    """The figures after a rebuild from the events (rolled back: the upkeep's stay)."""
    with factory() as session:
        rebuild(session)
        figures = _figures(session)
        session.rollback()
    return figures


def test_upkeep_follows_each_write_and_equals_a_rebuild(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        _articles(session)
        _suggest(session, AGENT, "1", FIRST_LEVEL, ("article:vpn",))
        _suggest(session, AGENT, "2", FIRST_LEVEL, ("ticket:x:9", "article:wifi"))
        _suggest(session, FIRM, "3", "escalate")
        _search(session, AGENT, 0)
        _search(session, FIRM, 2)
    middle = utcnow()
    with factory() as session, session.begin():
        visibility = Visibility(AGENT)
        link = LinkIn(ticket_source="z", ticket_id="1", article_slug="vpn")
        link_solution(session, principal=AGENT, visibility=visibility, link=link)
        # After the link: confirmed as it is recorded.
        _suggest(session, AGENT, "1", FIRST_LEVEL, ("article:vpn",))
        mark = FeedbackIn(target="article:wifi", helpful=True)
        give_feedback(session, principal=AGENT, visibility=visibility, feedback=mark)
        outcome = OutcomeIn(ticket_source="z", ticket_id="2", suggested_team="network",
                            final_team="network")  # fmt: skip
        record_outcome(session, principal=AGENT, outcome=outcome)
        _suggest(session, AGENT, "1", "escalate")
        _search(session, AGENT, 0)
    with factory() as session:
        incremental = _figures(session)
    assert incremental["agent"]["suggestions"] == [5, 2, 3, 3]
    assert incremental["agent"]["searches"] == [3, 2]
    assert incremental["agent"]["training"] == [("vpn", 1), ("wifi", 1)]
    assert incremental["agent"]["routing"] == [("0.7-0.9", 1, 1)]
    assert incremental["firm"]["suggestions"] == [1, 1, 0, 0]
    assert incremental["firm"]["searches"] == [1, 0]
    assert incremental["firm"]["routing"] == []
    assert _rebuilt(factory) == incremental

    # The retention prune: everything before `middle` goes (the first three suggestions,
    # two searches); ticket 2's only offer of wifi goes with them, ticket 1 keeps vpn
    # through its later suggestion.
    with factory() as session, session.begin():
        assert prune(session, 30, now=middle + timedelta(days=30)) == 5
    with factory() as session:
        pruned = _figures(session)
    assert pruned["agent"]["suggestions"] == [2, 1, 1, 1]
    assert pruned["agent"]["searches"] == [1, 1]
    assert pruned["agent"]["training"] == [("vpn", 1)]
    assert pruned["agent"]["routing"] == [("unknown", 1, 1)]
    assert pruned["firm"]["suggestions"] == [] and pruned["firm"]["searches"] == []
    assert _rebuilt(factory) == pruned


def test_an_upgrade_fills_the_rollups_from_stored_events(unmigrated_database_url: str) -> None:
    engine = create_db_engine(unmigrated_database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0009")
    day = datetime(2026, 11, 3, 10, tzinfo=UTC)
    with engine.begin() as connection:
        for n, (ticket, action) in enumerate(
            (("1", FIRST_LEVEL), ("2", FIRST_LEVEL), ("2", "escalate")), start=1
        ):
            connection.execute(
                text(
                    "INSERT INTO suggestion_events (id, at, channel, actor, role, ticket_source,"
                    " ticket_id, team, action) VALUES (:id, :at, 'api', 'agent', 'agent', 'z',"
                    " :ticket, 'network', :action)"
                ).bindparams(bindparam("at", type_=UtcDateTime())),
                {"id": n, "at": day, "ticket": ticket, "action": action},
            )
        connection.execute(
            text(
                "INSERT INTO suggestion_shown (event_id, rank, target) VALUES"
                " (1, 1, 'article:vpn'), (2, 1, 'article:vpn')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO solution_links (ticket_source, ticket_id, article_slug, actor,"
                " created_at) VALUES ('z', '1', 'vpn', 'agent', :at)"
            ).bindparams(bindparam("at", type_=UtcDateTime())),
            {"at": day},
        )
    command.upgrade(config, "head")
    factory = session_factory(engine)
    with factory() as session:
        session.add(
            Article(slug="vpn", title="vpn", team="network", body="", source_markdown="",
                    content_hash="vpn")
        )  # fmt: skip
        session.flush()
        visibility = Visibility(AGENT)
        page = kpis(session, visibility, start=day.date(), end=day.date())
        assert [(r.suggestions, r.escalated, r.first_level, r.first_level_confirmed)
                for r in page.suggestions] == [(3, 1, 2, 1)]  # fmt: skip
        topics = training(session, visibility, start=day.date(), end=day.date()).first_level or []
        assert [(t.articles[0].slug, t.count) for t in topics] == [("vpn", 1)]
        session.rollback()
    engine.dispose()


def test_the_rebuild_command_restores_rollups(tmp_path: Path) -> None:
    """`stellwerk db rebuild-kpi-rollups` on a database whose rollups were emptied."""
    url = f"sqlite:///{tmp_path / 'stellwerk.db'}"
    engine = create_db_engine(url)
    command.upgrade(alembic_config(engine), "head")
    factory = session_factory(engine)
    with factory() as session, session.begin():
        _suggest(session, AGENT, "1", FIRST_LEVEL, ("article:vpn",))
    raw = create_engine(url)
    with raw.begin() as connection:
        connection.execute(text("DELETE FROM suggestion_days"))
    raw.dispose()
    result = CliRunner().invoke(
        cli,
        ["db", "rebuild-kpi-rollups"],
        env={"STELLWERK_DATABASE_URL": url, "STELLWERK_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.exit_code == 0, result.output
    assert "1 suggestion days" in result.output
    with factory() as session:
        assert _figures(session)["agent"]["suggestions"] == [1, 0, 1, 0]
    engine.dispose()
