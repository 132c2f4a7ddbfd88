"""Benchmark databases: real tickets encoded once and cached, then grown with noisy copies."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench.common import (
    MAX_WORDS,
    REPO_ROOT,
    QueryText,
    endava_records,
    support_records,
    to_query,
    to_ticket,
)
from db.models import IndexChange, Passage, Ticket, utcnow
from db.session import create_db_engine, migrate, session_factory
from index.embedder import Embedder
from ingest.pipeline import ingest_articles, ingest_tickets
from ingest.tickets import ResolvedTicket

BASE_DB = "base.db"
BASE_INFO = "base.json"
# Every tenth support ticket is held out of the index and used as a query.
HOLD_OUT_EVERY = 10
SYNTHETIC_BATCH = 5000

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class BaseInfo:
    """What the cached base database holds."""

    model_id: str
    tickets: int
    passages: int
    encode_seconds: float


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def open_factory(path: Path) -> tuple[Engine, sessionmaker[Session]]:
    engine = create_db_engine(sqlite_url(path))
    migrate(engine)
    return engine, session_factory(engine)


def held_out_queries(count: int) -> list[QueryText]:
    """Half Endava test tickets (English), half held-out support tickets (German, English)."""
    support = [to_query(r) for i, r in enumerate(support_records()) if i % HOLD_OUT_EVERY == 0]
    endava = [to_query(r) for r in endava_records("test")[:count]]
    wanted_support = min(len(support), count // 2)
    queries = support[:wanted_support] + endava[: count - wanted_support]
    # Interleave so that warm-up and measured slices mix both sources.
    return [q for pair in zip(queries[::2], queries[1::2], strict=False) for q in pair]


def real_tickets(count: int) -> list[ResolvedTicket]:
    support = [
        to_ticket(r, "support") for i, r in enumerate(support_records()) if i % HOLD_OUT_EVERY != 0
    ]
    endava = [
        to_ticket(r, "endava") for r in endava_records("train")[: max(0, count - len(support))]
    ]
    return (support + endava)[:count]


def load_base_info(workdir: Path) -> BaseInfo | None:
    path = workdir / BASE_INFO
    if not path.exists() or not (workdir / BASE_DB).exists():
        return None
    return BaseInfo(**json.loads(path.read_text(encoding="utf-8")))


def build_base(workdir: Path, embedder: Embedder, tickets: int) -> BaseInfo:
    """Articles plus `tickets` real tickets, embedded through the production pipeline."""
    engine, factory = open_factory(workdir / BASE_DB)
    try:
        started = time.perf_counter()
        ingest_articles(factory, embedder, REPO_ROOT / "articles", max_words=MAX_WORDS)
        chosen = real_tickets(tickets)
        ingest_tickets(
            factory, embedder, chosen, max_words=MAX_WORDS, show_progress=True, total=len(chosen)
        )
        seconds = time.perf_counter() - started
        with factory() as session:
            passages = int(session.scalar(select(func.count(Passage.id))) or 0)
    finally:
        engine.dispose()
    info = BaseInfo(embedder.model_id, len(chosen), passages, round(seconds, 1))
    (workdir / BASE_INFO).write_text(json.dumps(asdict(info)), encoding="utf-8")
    return info


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (safe with WAL files)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _ticket_rows(session: Session) -> list[Ticket]:
    return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def _passage_rows(session: Session) -> dict[int, list[Passage]]:
    by_ticket: dict[int, list[Passage]] = {}
    query = select(Passage).where(Passage.ticket_id.is_not(None)).order_by(Passage.id)
    for passage in session.scalars(query):
        by_ticket.setdefault(int(passage.ticket_id or 0), []).append(passage)
    return by_ticket


def perturbed(vectors: Matrix, sigma: float, rng: np.random.Generator) -> Matrix:
    """Real vectors plus Gaussian noise per dimension, normalised again."""
    noisy = vectors + rng.normal(0.0, sigma, size=vectors.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return noisy.astype(np.float32)


def add_synthetic_tickets(
    path: Path, *, count: int, model_id: str, sigma: float, seed: int = 0
) -> None:
    """Copies of the real tickets with perturbed vectors, bulk-inserted as the store writes."""
    engine, factory = open_factory(path)
    rng = np.random.default_rng(seed)
    try:
        with factory() as session:
            originals = _ticket_rows(session)
            passages = _passage_rows(session)
            next_ticket = int(session.scalar(select(func.max(Ticket.id))) or 0) + 1
            next_passage = int(session.scalar(select(func.max(Passage.id))) or 0) + 1
        for start in range(0, count, SYNTHETIC_BATCH):
            size = min(SYNTHETIC_BATCH, count - start)
            sources = [originals[(start + i) % len(originals)] for i in range(size)]
            ticket_rows, passage_rows = _synthetic_batch(
                sources, passages, start, next_ticket + start, next_passage, model_id
            )
            vectors = np.vstack([np.frombuffer(p.pop("_vector"), np.float32) for p in passage_rows])
            for row, vector in zip(passage_rows, perturbed(vectors, sigma, rng), strict=True):
                row["embedding"] = vector.tobytes()
            next_passage += len(passage_rows)
            _insert(factory, ticket_rows, passage_rows)
    finally:
        engine.dispose()


def _synthetic_batch(
    sources: list[Ticket],
    passages: dict[int, list[Passage]],
    offset: int,
    first_ticket: int,
    first_passage: int,
    model_id: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tickets: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for i, original in enumerate(sources):
        ticket_id = first_ticket + i
        external = f"synthetic-{offset + i}"
        tickets.append(
            {
                "id": ticket_id,
                "source": "synthetic",
                "external_id": external,
                "title": original.title,
                "description": original.description,
                "resolution": original.resolution,
                "team": original.team,
                "language": original.language,
                "tags": list(original.tags),
                "content_hash": hashlib.sha256(external.encode()).hexdigest(),
                "ingested_at": now,
            }
        )
        for passage in passages.get(original.id, []):
            rows.append(
                {
                    "id": first_passage + len(rows),
                    "ticket_id": ticket_id,
                    "position": passage.position,
                    "heading_path": list(passage.heading_path),
                    "anchor": passage.anchor,
                    "text": passage.text,
                    "model_id": model_id,
                    "_vector": passage.embedding,
                }
            )
    return tickets, rows


def _insert(
    factory: sessionmaker[Session], tickets: list[dict[str, Any]], passages: list[dict[str, Any]]
) -> None:
    with factory() as session, session.begin():
        session.execute(insert(Ticket), tickets)
        session.execute(insert(Passage), passages)
        changes = [{"passage_id": row["id"], "op": "add"} for row in passages]
        session.execute(insert(IndexChange), changes)
