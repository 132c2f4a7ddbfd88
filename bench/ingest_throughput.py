"""Ingest throughput: the production pipeline beside the bare model encoding the same texts.

Three sides, alternated round by round: the bare torch model (`model.encode`, all texts in
one call), the pipeline on torch, and the pipeline on the default engine
(`index.embedder.default_engine()`, what `auto` picks on this CPU); the ratios to the bare
torch model are the figures.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    DEFAULT_MODEL,
    MAX_WORDS,
    MODEL_CACHE,
    first_tickets,
    format_table,
    load_note,
    print_json_line,
)
from db.session import create_db_engine, migrate, session_factory
from index.embedder import Embedder, SentenceTransformerEmbedder, default_engine, load_embedder
from ingest.index_sync import refresh_snapshot
from ingest.pipeline import ingest_tickets, ticket_chunks
from ingest.tickets import ResolvedTicket

TARGET_RATIO = 0.9
ROUNDS = 2
BATCH_SIZE = 32


@dataclass(frozen=True)
class OursTiming:
    """One pipeline run: ingest (embed + store) and the snapshot write after it."""

    ingest_seconds: float
    snapshot_seconds: float

    @property
    def total(self) -> float:
        return self.ingest_seconds + self.snapshot_seconds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1000, help="Tickets to ingest.")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="Embedding model name.")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads for both sides (0: torch decides)."
    )
    return parser.parse_args()


def embedded_texts(
    tickets: list[ResolvedTicket], embedder: SentenceTransformerEmbedder
) -> list[str]:
    """Exactly what the pipeline hands the model: masked chunks with the document prefix."""
    prefix = embedder._spec.document_prefix
    return [
        prefix + chunk.embedding_text()
        for ticket in tickets
        for chunk in ticket_chunks(ticket.masked(), MAX_WORDS)
    ]


def run_baseline(embedder: SentenceTransformerEmbedder, texts: list[str]) -> float:
    """The raw sentence-transformers model on the same texts, in one call."""
    started = time.perf_counter()
    embedder._model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True)
    return time.perf_counter() - started


def run_ours(embedder: Embedder, tickets: list[ResolvedTicket]) -> OursTiming:
    """ingest_tickets into a fresh SQLite database, then the snapshot the service loads."""
    workdir = Path(tempfile.mkdtemp(prefix="stellwerk-bench-ingest-"))
    engine = create_db_engine(f"sqlite:///{workdir / 'stellwerk.db'}")
    try:
        migrate(engine)
        factory = session_factory(engine)
        started = time.perf_counter()
        ingest_tickets(
            factory, embedder, tickets, max_words=MAX_WORDS, show_progress=False, total=len(tickets)
        )
        ingested = time.perf_counter()
        refresh_snapshot(
            factory,
            index_dir=workdir / "index",
            dim=embedder.dim,
            model_id=embedder.model_id,
            engine=embedder.engine,
            exact_max=200_000,
            keep=2,
        )
        return OursTiming(ingested - started, time.perf_counter() - ingested)
    finally:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    args = parse_args()
    print(load_note())
    embedder = load_embedder(
        args.model,
        cache_dir=MODEL_CACHE,
        engine="torch",
        batch_size=BATCH_SIZE,
        threads=args.threads,
    )
    assert isinstance(embedder, SentenceTransformerEmbedder)
    default = load_embedder(
        args.model,
        cache_dir=MODEL_CACHE,
        engine=default_engine(),
        batch_size=BATCH_SIZE,
        threads=args.threads,
    )
    tickets = first_tickets(args.tickets)
    texts = embedded_texts(tickets, embedder)
    print(f"{len(tickets)} tickets -> {len(texts)} passages; model {embedder.model_id}")
    embedder._model.encode(texts[:64], batch_size=BATCH_SIZE, normalize_embeddings=True)
    default.encode_documents(texts[:64])
    baseline: list[float] = []
    ours: list[OursTiming] = []
    ours_default: list[OursTiming] = []
    for round_number in range(1, ROUNDS + 1):
        baseline.append(run_baseline(embedder, texts))
        ours.append(run_ours(embedder, tickets))
        ours_default.append(run_ours(default, tickets))
        print(
            f"round {round_number}: baseline {baseline[-1]:.1f} s, ours (torch) "
            f"{ours[-1].total:.1f} s, ours ({default_engine()}) {ours_default[-1].total:.1f} s"
        )
    best = min(ours, key=lambda t: t.total)
    best_default = min(ours_default, key=lambda t: t.total)
    report(
        len(texts),
        min(baseline),
        best,
        best_default,
        f"{embedder.model_id}, threads {args.threads}",
    )


def report(
    texts: int, baseline: float, ours: OursTiming, ours_default: OursTiming, model: str
) -> None:
    ratio = baseline / ours.total
    ratio_default = baseline / ours_default.total
    rows = [
        ["model.encode, torch (baseline)", texts, baseline, texts / baseline, 1.0],
        ["ingest_tickets + snapshot, torch", texts, ours.total, texts / ours.total, ratio],
        [
            f"ingest_tickets + snapshot, {default_engine()}",
            texts,
            ours_default.total,
            texts / ours_default.total,
            ratio_default,
        ],
    ]
    print(format_table(["best of 2", "texts", "seconds", "texts/s", "ratio"], rows))
    print(
        f"ours = ingest {ours.ingest_seconds:.1f} s + snapshot {ours.snapshot_seconds:.1f} s; "
        f"throughput ratio ours/baseline {ratio:.2f} (target >= {TARGET_RATIO}: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}); {default_engine()} against the "
        f"torch pipeline {ours.total / ours_default.total:.2f}x; {load_note()}"
    )
    print_json_line(
        "ingest_throughput",
        {
            "model": model,
            "texts": texts,
            "baseline_seconds": round(baseline, 2),
            "ours_seconds": round(ours.total, 2),
            "ours_ingest_seconds": round(ours.ingest_seconds, 2),
            "ours_snapshot_seconds": round(ours.snapshot_seconds, 2),
            "ratio": round(ratio, 3),
            "target_ratio": TARGET_RATIO,
            "default_engine": default_engine(),
            "default_seconds": round(ours_default.total, 2),
            "default_ratio": round(ratio_default, 3),
            "default_over_torch_pipeline": round(ours.total / ours_default.total, 2),
        },
    )


if __name__ == "__main__":
    main()
