"""What recording a suggestion event costs on the request path (issue 12, item 1).

Times one request's commit without an event (the baseline: the read-only request as before)
and with one suggestion event and five solutions shown, on SQLite and, when
`STELLWERK_BENCH_POSTGRES_URL` is set, on PostgreSQL.

    python -m bench.event_write
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from sqlalchemy.orm import Session, sessionmaker

from app.auth import Principal
from app.schemas.suggest import Escalation, RoutingEvidence, Solution, TeamSuggestion
from app.services.events import record_suggestion
from app.services.suggest import Suggestion
from db.session import create_db_engine, migrate, session_factory
from index.metrics import percentile

RUNS = 300
AGENT = Principal(key_id=1, name="agent", role="agent")


def _suggestion() -> Suggestion:
    shown = [
        Solution(
            id=f"article:a{n}",
            kind="article",
            title="t",
            heading_path=[],
            snippet="s",
            highlights=[],
            score=0.5,
            link="/x",
            team="network",
            language="en",
        )
        for n in range(5)
    ]
    return Suggestion(
        solutions=shown,
        team=TeamSuggestion(
            name="network",
            confidence=0.8,
            alternatives=[],
            stage="vote",
            abstained=False,
            reason="r",
        ),
        escalation=Escalation(
            action="escalate", team="network", reason="r", contractor=None, guideline=None
        ),
        evidence=RoutingEvidence(similar_tickets=[], charter_lines=[]),
    )


def _times(factory: sessionmaker[Session], *, with_event: bool) -> list[float]:
    suggestion = _suggestion()
    times = []
    for number in range(RUNS):
        with factory() as session:
            started = time.perf_counter()
            if with_event:
                record_suggestion(
                    session,
                    principal=AGENT,
                    channel="api",
                    suggestion=suggestion,
                    ticket=("bench", str(number)),
                    retention_days=400,
                )
            session.commit()
            times.append((time.perf_counter() - started) * 1000)
    return times


def measure(url: str, label: str) -> None:
    engine = create_db_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    for name, with_event in (("baseline (no event)", False), ("one event", True)):
        times = _times(factory, with_event=with_event)
        print(
            f"{label:10} {name:20} median {statistics.median(times):6.2f} ms  "
            f"p95 {percentile(times, 0.95):6.2f} ms"
        )
    engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{folder}/events.db", "sqlite")
    postgres = os.environ.get("STELLWERK_BENCH_POSTGRES_URL")
    if postgres:
        measure(postgres, "postgres")


if __name__ == "__main__":
    main()
