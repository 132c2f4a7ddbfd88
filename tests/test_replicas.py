"""Three `stellwerk serve` processes on one PostgreSQL database, sharing nothing else.

Each replica is the installed CLI in a process of its own, with its own data folder and
port; they start at once on an empty database. Writes through any are found through all
within the refresh interval, a change committing after a later one is applied by every
replica, the router is trained once per state of the data and served alike, and a replica
killed with SIGKILL during writes loses nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from db.models import Article, IndexChange, Passage, RoutingModelRow, Ticket
from db.session import alembic_config, create_db_engine, session_factory
from index.embedder import SentenceTransformerEmbedder
from ingest.pipeline import ticket_chunks, ticket_hash
from ingest.store import save_ticket
from ingest.tickets import ResolvedTicket
from routing.shared import training_state
from tests.factories import article_markdown
from tests.live_server import free_port
from tests.paths import MODEL_CACHE, REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REFRESH_SECONDS = 0.5
STELLWERK = Path(sys.executable).with_name("stellwerk")  # the installed console script
START_SECONDS = 300.0  # three model loads at once on a busy 2-core machine
SOURCE = "replicas"
WRITES_EACH = 6  # tickets each writer pushes while one replica is killed


@dataclass
class Replica:
    """One `stellwerk serve` process: its data folder, port and log."""

    name: str
    root: Path
    database_url: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {
            **os.environ,
            # This checkout's code, wherever the console script was installed from.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "HF_HUB_OFFLINE": "1",
            "STELLWERK_DATA_DIR": str(self.root / "data"),
            "STELLWERK_DATABASE_URL": self.database_url,
            "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
            "STELLWERK_INDEX_REFRESH_SECONDS": str(REFRESH_SECONDS),
            "STELLWERK_ROUTING_RETRAIN_SECONDS": "0.5",
            "STELLWERK_ROUTING_MODELS_KEPT": "1000",  # every version stays, to be counted
            "STELLWERK_LOG_FORMAT": "json",
        }

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def log_path(self) -> Path:
        return self.root / f"serve-{self.starts}.log"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.port = free_port()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(STELLWERK), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, deadline: float) -> None:
        """Until the keyless readiness probe says 200 (the index is loaded)."""
        while True:
            assert self.process is not None and self.process.poll() is None, self.failure("exited")
            try:
                if httpx.get(f"{self.api}/health/ready", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.failure("not ready in time")
            time.sleep(0.2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def errors(self) -> list[str]:
        """Log lines at level error or with a traceback, of every start."""
        found = []
        for start in range(1, self.starts + 1):
            for line in (self.root / f"serve-{start}.log").read_text(errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    if "Traceback" in line:
                        found.append(line)
                    continue
                if isinstance(record, dict) and (
                    record.get("level") in ("error", "critical") or "exception" in record
                ):
                    found.append(line)
        return found

    def failure(self, what: str) -> str:
        return f"replica {self.name} {what}; log:\n{self.log_path.read_text(errors='replace')}"


def _create_key(replica: Replica, name: str) -> str:
    created = subprocess.run(
        [str(STELLWERK), "keys", "create", "--role", "admin", "--name", name],
        cwd=replica.root,
        env=replica.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.strip()


def _indexed(replica: Replica, key: str) -> set[str]:
    """Every document the replica's index holds: a search asking for more than there are."""
    response = httpx.post(
        f"{replica.api}/search",
        json={"query": "Fehler beheben", "k": 50},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    hits: list[dict[str, str]] = response.json()["hits"]
    assert len(hits) < 50, "more documents than one search shows"
    return {hit["id"] for hit in hits}


def _all_see(replicas: list[Replica], key: str, expected: set[str]) -> None:
    """After one refresh interval, one search on each replica shows exactly `expected`."""
    time.sleep(REFRESH_SECONDS)
    for replica in replicas:
        assert _indexed(replica, key) == expected, f"replica {replica.name}"


def _publish(replica: Replica, author: str, reviewer: str, slug: str) -> None:
    markdown = article_markdown(
        f"Fehler {slug} beheben", f"## Lösung\nDen Dienst {slug} neu starten.", team="workplace"
    )
    steps = [
        ("/articles", author, {"slug": slug, "markdown": markdown}, 201),
        (f"/articles/{slug}/versions/1/submit", author, None, 200),
        (f"/articles/{slug}/versions/1/publish", reviewer, None, 200),
    ]
    for path, key, body, status in steps:
        response = httpx.post(
            f"{replica.api}{path}",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert response.status_code == status, response.text


def _ticket(external_id: str, team: str = "workplace") -> dict[str, str]:
    return {
        "id": external_id,
        "source": SOURCE,
        "title": f"Fehler {external_id} am Arbeitsplatz",
        "description": "Der Drucker meldet einen Fehler.",
        "resolution": "Treiber neu installiert.",
        "team": team,
    }


def _push(replica: Replica, key: str, external_id: str, team: str = "workplace") -> int:
    response = httpx.post(
        f"{replica.api}/tickets",
        json=_ticket(external_id, team),
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    return response.status_code


def _documents_in_database(engine: Engine) -> set[str]:
    with Session(engine) as session:
        tickets = session.execute(select(Ticket.source, Ticket.external_id)).all()
        articles = session.scalars(select(Article.slug).where(Article.status == "published"))
        return {f"ticket:{s}:{e}" for s, e in tickets} | {f"article:{slug}" for slug in articles}


def _migrated_once(engine: Engine, replicas: list[Replica]) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [row[0] for row in versions] == [head]
    for replica in replicas:
        assert replica.errors() == [], f"replica {replica.name}"


def _out_of_order_commit(
    engine: Engine, embedder: SentenceTransformerEmbedder, replicas: list[Replica], key: str
) -> set[str]:
    """A writer takes its sequence numbers, waits, and commits after a later writer."""
    early = ResolvedTicket(
        id="EARLY", source=SOURCE, title="Fehler EARLY", description="langsam", team="workplace"
    )
    chunks = ticket_chunks(early, 180)
    vectors = embedder.encode_documents([chunk.embedding_text() for chunk in chunks])
    before = _documents_in_database(engine)
    with session_factory(engine)() as slow_writer:
        slow_writer.begin()
        save_ticket(
            slow_writer,
            early,
            content_hash=ticket_hash(early),
            chunks=chunks,
            vectors=vectors,
            model_id=embedder.model_id,
            existing=None,
        )
        slow_writer.flush()  # its sequence numbers are taken; it stays open
        assert _push(replicas[0], key, "LATE") == 201
        late = before | {f"ticket:{SOURCE}:LATE"}
        _all_see(replicas, key, late)  # every replica has read past EARLY's numbers
        slow_writer.commit()
    with Session(engine) as session:
        seq_of = dict(
            session.execute(
                select(Ticket.external_id, IndexChange.seq)
                .join(Passage, Passage.ticket_id == Ticket.id)
                .join(IndexChange, IndexChange.passage_id == Passage.id)
                .where(Ticket.external_id.in_(["EARLY", "LATE"]))
            ).all()
        )
    assert seq_of["EARLY"] < seq_of["LATE"]  # committed in the other order
    everything = late | {f"ticket:{SOURCE}:EARLY"}
    _all_see(replicas, key, everything)
    return everything


@dataclass
class Writer:
    """Pushes tickets through one replica until done or the replica is gone."""

    replica: Replica
    key: str
    count: int
    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unexpected: list[int] = field(default_factory=list)

    def run(self) -> None:
        for number in range(self.count):
            external_id = f"K-{self.replica.name}-{number}"
            try:
                status = _push(self.replica, self.key, external_id)
            except httpx.TransportError:
                self.refused.append(external_id)
                return
            if status != 201:
                self.unexpected.append(status)
                return
            self.acknowledged.append(external_id)


def _kill_during_writes(replicas: list[Replica], key: str, engine: Engine) -> None:
    writers = [Writer(replica, key, count=WRITES_EACH) for replica in replicas]
    threads = [threading.Thread(target=writer.run, daemon=True) for writer in writers]
    for thread in threads:
        thread.start()
    victim, victim_writer = replicas[2], writers[2]
    deadline = time.monotonic() + 120
    while len(victim_writer.acknowledged) < 2:
        assert time.monotonic() < deadline, "no writes acknowledged"
        time.sleep(0.01)
    victim.kill()
    for thread in threads:
        thread.join(timeout=300)
    assert [writer.unexpected for writer in writers] == [[], [], []]
    assert victim_writer.refused, "the kill came after the writes"
    victim.start()
    victim.wait_ready(time.monotonic() + START_SECONDS)
    stored = _documents_in_database(engine)
    acknowledged = {f"ticket:{SOURCE}:{i}" for writer in writers for i in writer.acknowledged}
    assert acknowledged <= stored
    assert len(acknowledged) >= 2 * WRITES_EACH + 2
    _all_see(replicas, key, stored)


def _routing_settles(replicas: list[Replica], key: str, engine: Engine) -> str:
    """Until every replica serves the newest stored model, trained on the data as it is."""
    deadline = time.monotonic() + 180
    while True:
        versions = set()
        for replica in replicas:
            ready = httpx.get(
                f"{replica.api}/ready", headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            assert ready.status_code == 200, ready.text
            versions.add(ready.json()["routing_version"])
        with Session(engine) as session:
            state = training_state(session)
            newest = session.execute(
                select(RoutingModelRow.id, RoutingModelRow.manifest)
                .order_by(RoutingModelRow.id.desc())
                .limit(1)
            ).first()
        current = newest is not None and newest[1].get("trained_on") == state
        if newest is not None and current and versions == {str(newest[0])}:
            return str(newest[0])
        assert time.monotonic() < deadline, f"routing did not settle: {versions}, {newest}"
        time.sleep(REFRESH_SECONDS)


def test_three_replicas_on_one_database(
    tmp_path: Path, postgres_database: str, real_embedder: SentenceTransformerEmbedder
) -> None:
    # real_embedder has built the model folder in MODEL_CACHE, so the replicas only load it.
    replicas = [Replica(name, tmp_path / name, postgres_database) for name in "abc"]
    engine = create_db_engine(postgres_database)
    try:
        for replica in replicas:  # at once, on the empty database
            replica.start()
        deadline = time.monotonic() + START_SECONDS
        for replica in replicas:
            replica.wait_ready(deadline)
        _migrated_once(engine, replicas)
        author = _create_key(replicas[0], "author")
        reviewer = _create_key(replicas[1], "reviewer")

        expected: set[str] = set()
        for replica in replicas:
            _publish(replica, author, reviewer, f"dienst-{replica.name}")
            assert _push(replica, author, f"T-{replica.name}") == 201
            expected |= {f"article:dienst-{replica.name}", f"ticket:{SOURCE}:T-{replica.name}"}
            _all_see(replicas, author, expected)

        _out_of_order_commit(engine, real_embedder, replicas, author)
        _kill_during_writes(replicas, author, engine)

        version = _routing_settles(replicas, author, engine)
        with Session(engine) as session:
            trained_on = [
                manifest["trained_on"]
                for manifest in session.scalars(select(RoutingModelRow.manifest))
            ]
        # One training per state of the data, whichever replica saw it first.
        assert len(trained_on) == len(set(trained_on)), trained_on
        assert trained_on and version is not None
        for replica in replicas:
            assert replica.errors() == [], f"replica {replica.name}"
    finally:
        for replica in replicas:
            replica.stop()
        engine.dispose()
