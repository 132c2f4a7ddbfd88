"""The KPI page's queries at scale (issue 12): 100k resolved tickets and 1M events.

Fills a database with a seeded synthetic year (100,000 tickets; 700,000 suggestion events
with one solution shown each and 300,000 search events, i.e. 1M events; 30,000 escalation
outcomes, 50,000 solution links, 20,000 feedback marks, 2,000 tasks, 10,000 pulses; 10 teams,
three of them a contractor firm's), then times what the dashboard asks for one 90-day range
(all KPI families, training needs, satisfaction) as staff and as a firm. The baseline, in the
same run on the same data, is one indexed range count of the suggestion events in that range:
the least any KPI over the events must read. The target: p95 < 500 ms for the page.

    python -m bench.kpi_queries --runs 5        # SQLite in a temporary folder
    STELLWERK_BENCH_POSTGRES_URL=postgresql+psycopg://... python -m bench.kpi_queries \
        --databases postgres --runs 5           # an empty database of its own
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.auth import CLI_PRINCIPAL, Principal
from app.services.kpis import kpis
from app.services.pulses import pulse_summary
from app.services.training import training
from app.services.visibility import visibility_for
from db.kpi_rollups import rebuild
from db.models import (
    ApiKey,
    Article,
    EscalationOutcome,
    Feedback,
    Pulse,
    SearchEvent,
    SolutionLink,
    SuggestionEvent,
    SuggestionShown,
    Task,
    Ticket,
)
from db.session import create_db_engine, migrate, session_factory
from index.metrics import percentile

TEAMS = [f"team-{n}" for n in range(10)]
FIRMS = {"team-7": "Firm A", "team-8": "Firm B", "team-9": "Firm C"}
START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 86400
CHUNK = 20_000
ACTIONS = np.array(["resolve_at_first_level", "escalate", "dispatcher"])


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def _fill(factory: sessionmaker[Session], model: Any, rows: Iterator[dict[str, Any]]) -> None:
    """Bulk rows: COPY on PostgreSQL, one Core executemany per chunk on SQLite. Every row
    names every column it fills (COPY applies no Python-side default)."""
    table = model.__table__
    for batch in _chunks(rows):
        with factory() as session, session.begin():
            connection = session.connection()
            if connection.dialect.name != "postgresql":
                connection.execute(table.insert(), batch)
                continue
            columns = list(batch[0])
            raw: Any = connection.connection.driver_connection
            with raw.cursor() as cursor:
                names = ", ".join(columns)
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row([_copy_value(row[c]) for c in columns])


def _when(rng: np.random.Generator, n: int) -> list[datetime]:
    seconds = rng.integers(0, YEAR_SECONDS, n)
    return [START + timedelta(seconds=int(s)) for s in seconds]


def seed(factory: sessionmaker[Session], *, tickets: int, events: int) -> None:
    rng = np.random.default_rng(0)
    articles = [f"how-to-{n}" for n in range(500)]
    with factory() as session, session.begin():
        for team in TEAMS:
            front = {"contractor": FIRMS[team]} if team in FIRMS else {}
            session.add(
                Article(slug=f"charter-{team}", title=team, kind="team", team=team, body="",
                        source_markdown="", content_hash=team, front_matter=front)
            )  # fmt: skip
        for n, slug in enumerate(articles):
            team = TEAMS[n % len(TEAMS)]
            shared = [FIRMS[team]] if team in FIRMS and n % 2 else []
            session.add(
                Article(slug=slug, title=slug, team=team, body="", source_markdown="",
                        content_hash=slug, audience="partners" if shared else "internal",
                        companies=shared)
            )  # fmt: skip
        for firm in FIRMS.values():
            session.add(ApiKey(name=firm, role="contractor", company=firm, prefix=firm,
                               key_hash="x"))  # fmt: skip
    team_of = rng.integers(0, len(TEAMS), tickets)
    _fill(factory, Ticket, (
        {"source": "bench", "external_id": str(n), "title": "t", "description": "d",
         "team": TEAMS[team_of[n]], "resolved_at": when, "content_hash": str(n),
         "resolution": "", "tags": [], "ingested_at": START}
        for n, when in enumerate(_when(rng, tickets))
    ))  # fmt: skip
    suggestions = events * 7 // 10
    action = ACTIONS[rng.choice(3, suggestions, p=[0.6, 0.3, 0.1])]
    suggested = rng.integers(0, len(TEAMS), suggestions)
    ticket = rng.integers(0, tickets, suggestions)
    by_firm = rng.random(suggestions) < 0.1
    _fill(factory, SuggestionEvent, (
        {"id": n + 1, "at": when, "channel": "api", "actor": "agent", "role": "agent",
         "company": FIRMS.get(TEAMS[suggested[n]]) if by_firm[n] else None,
         "ticket_source": "bench", "ticket_id": str(ticket[n]), "team": TEAMS[suggested[n]],
         "confidence": float(n % 100) / 100,
         "action": str(action[n]),
         "escalation_team": TEAMS[suggested[n]] if action[n] == "escalate" else None}
        for n, when in enumerate(_when(rng, suggestions))
    ))  # fmt: skip
    shown = rng.integers(0, len(articles), suggestions)
    _fill(factory, SuggestionShown, (
        {"event_id": n + 1, "rank": 1, "target": f"article:{articles[shown[n]]}"}
        for n in range(suggestions)
    ))  # fmt: skip
    _fill(factory, SearchEvent, (
        {"at": when, "channel": "api", "role": "agent", "query": "q", "results": n % 4}
        for n, when in enumerate(_when(rng, events - suggestions))
    ))  # fmt: skip
    outcomes = tickets * 3 // 10
    moved = rng.random(outcomes) < 0.2
    _fill(factory, EscalationOutcome, (
        {"ticket_source": "bench", "ticket_id": str(n), "suggested_team": TEAMS[team_of[n]],
         "first_team": TEAMS[team_of[n]],
         "final_team": TEAMS[(team_of[n] + 1) % len(TEAMS)] if moved[n] else TEAMS[team_of[n]],
         "actor": "agent", "created_at": when}
        for n, when in enumerate(_when(rng, outcomes))
    ))  # fmt: skip
    linked = rng.choice(tickets, tickets // 2, replace=False)
    _fill(factory, SolutionLink, (
        {"ticket_source": "bench", "ticket_id": str(t), "article_slug": articles[int(t) % 500],
         "actor": "agent", "created_at": when}
        for t, when in zip(linked, _when(rng, len(linked)), strict=True)
    ))  # fmt: skip
    _fill(factory, Feedback, (
        {"target": f"article:{articles[n % 500]}", "team": TEAMS[n % 10], "context": "article",
         "helpful": bool(n % 3), "actor": "agent", "created_at": when}
        for n, when in enumerate(_when(rng, 20_000))
    ))  # fmt: skip
    _fill(factory, Task, (
        {"team": TEAMS[n % 10], "status": "open" if n % 2 else "done", "reason": "feedback",
         "target": f"article:{articles[n % 500]}", "created_at": when}
        for n, when in enumerate(_when(rng, 2_000))
    ))  # fmt: skip
    _fill(factory, Pulse, (
        {"at": when, "ticket_source": "bench", "ticket_id": str(n), "side": "first_level",
         "aspect": "answer", "rating": 1 + n % 5, "team": TEAMS[n % 10], "actor": "agent"}
        for n, when in enumerate(_when(rng, 10_000))
    ))  # fmt: skip


def _page(
    session: Session, principal: Principal, start: date, end: date, parts: dict[str, float]
) -> None:
    """What /dashboard reads for one range: every KPI family, training, satisfaction;
    each part's milliseconds are added to `parts`."""
    visibility = visibility_for(session, principal)
    for name, part in (
        ("kpis", lambda: kpis(session, visibility, start=start, end=end)),
        ("training", lambda: training(session, visibility, start=start, end=end)),
        ("pulses", lambda: pulse_summary(session, principal, start=start, end=end)),
    ):
        began = time.perf_counter()
        part()
        parts[name] = parts.get(name, 0.0) + (time.perf_counter() - began) * 1000


def _backend_cpu_ms(session: Session) -> float | None:
    """CPU milliseconds the session's PostgreSQL backend has used, when it runs on this
    machine (/proc of its pid); None on SQLite, which runs in this process."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _times(
    factory: sessionmaker[Session], run: Callable[[Session], object], n: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of `n` runs. CPU (this process's, plus the PostgreSQL
    backend's when local) hardly moves with other load on the machine; wall does."""
    times, cpu = [], []
    for _ in range(n):
        with factory() as session:
            backend = _backend_cpu_ms(session)
            started, own = time.perf_counter(), time.process_time()
            run(session)
            times.append((time.perf_counter() - started) * 1000)
            used = (time.process_time() - own) * 1000
            after = _backend_cpu_ms(session)
            cpu.append(used + (after - backend if after is not None and backend is not None else 0))
    return times, cpu


def measure(url: str, label: str, *, tickets: int, events: int, runs: int) -> None:
    engine = create_db_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    began = time.perf_counter()
    seed(factory, tickets=tickets, events=events)
    print(
        f"{label}: seeded {tickets} tickets, {events} events in {time.perf_counter() - began:.0f} s"
    )
    began = time.perf_counter()
    with factory() as session, session.begin():
        rebuild(session)  # what migration 0011 does to a database with these events
    print(f"{label}: KPI rollups rebuilt from the events in {time.perf_counter() - began:.1f} s")
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a live database after a bulk load: planner statistics.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    start, end = date(2026, 7, 1), date(2026, 9, 28)  # 90 days
    since = datetime(2026, 7, 1, tzinfo=UTC)
    until = datetime(2026, 9, 29, tzinfo=UTC)

    def baseline(session: Session) -> object:
        return session.scalar(
            select(func.count()).where(SuggestionEvent.at >= since, SuggestionEvent.at < until)
        )

    firm = Principal(key_id=None, name="Firm A", role="contractor", company="Firm A")
    floor, floor_cpu = _times(factory, baseline, runs)
    floor_p95 = percentile(floor, 0.95)
    print(f"{label:8} {'baseline: count of the range':32} p50 {percentile(floor, 0.5):7.1f} ms  "
          f"p95 {floor_p95:7.1f} ms  CPU p50 {percentile(floor_cpu, 0.5):7.1f} ms")  # fmt: skip
    for name, who in (("KPI page as staff", CLI_PRINCIPAL), ("KPI page as a firm", firm)):
        parts: dict[str, float] = {}

        def one_page(
            session: Session, who: Principal = who, parts: dict[str, float] = parts
        ) -> None:
            _page(session, who, start, end, parts)

        page, cpu = _times(factory, one_page, runs)
        p95 = percentile(page, 0.95)
        cpu_p50, cpu_p95 = percentile(cpu, 0.5), percentile(cpu, 0.95)
        print(f"{label:8} {name:32} p50 {percentile(page, 0.5):7.1f} ms  p95 {p95:7.1f} ms  "
              f"ratio to baseline p95 {p95 / floor_p95:5.1f}  "
              f"CPU p50 {cpu_p50:7.1f} p95 {cpu_p95:7.1f} ms")  # fmt: skip
        means = ", ".join(f"{k} {v / runs:.1f} ms" for k, v in parts.items())
        print(f"{label:8} {'':32} mean per part: {means}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--databases", default="sqlite,postgres", help="Which to measure.")
    args = parser.parse_args()
    sizes = {"tickets": args.tickets, "events": args.events, "runs": args.runs}
    wanted = set(args.databases.split(","))
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory() as folder:
            measure(f"sqlite:///{folder}/kpis.db", "sqlite", **sizes)
    postgres = os.environ.get("STELLWERK_BENCH_POSTGRES_URL")
    if postgres and "postgres" in wanted:
        measure(postgres, "postgres", **sizes)


if __name__ == "__main__":
    main()
