"""Retrieval evaluation: index a BEIR folder in a workspace and measure every system."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tqdm import tqdm

from db.models import Ticket
from db.session import create_db_engine, migrate, session_factory
from index.embedder import Embedder
from index.fusion import SYSTEMS, System
from index.metrics import mrr_at, ndcg_at, percentile, recall_at
from index.query_vector import query_vectors
from index.searcher import Searcher
from ingest.beir import BeirDataset, load_beir
from ingest.index_sync import build_searcher
from ingest.pipeline import ingest_tickets

DEPTH = 100


def index_dataset(
    dataset: BeirDataset,
    embedder: Embedder,
    workspace: Path,
    *,
    max_words: int,
    exact_max: int,
    show_progress: bool,
) -> tuple[Searcher, dict[str, str]]:
    """Ingest the corpus through the production pipeline; returns the searcher and doc ids."""
    workspace.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(f"sqlite:///{workspace / 'eval.db'}")
    try:
        migrate(engine)
        factory = session_factory(engine)
        ingest_tickets(
            factory,
            embedder,
            dataset.documents,
            max_words=max_words,
            show_progress=show_progress,
            total=len(dataset.documents),
        )
        with factory() as session:
            searcher = build_searcher(
                session, dim=embedder.dim, model_id=embedder.model_id, exact_max=exact_max
            )
            doc_ids = {
                f"ticket:{row_id}": external
                for row_id, external in session.execute(select(Ticket.id, Ticket.external_id))
            }
    finally:
        engine.dispose()
    return searcher, doc_ids


def _measure(
    searcher: Searcher,
    embedder: Embedder,
    dataset: BeirDataset,
    doc_ids: dict[str, str],
    system: System,
    max_queries: int | None,
) -> dict[str, float]:
    totals = {"ndcg@10": 0.0, "mrr@10": 0.0, "recall@1": 0.0, "recall@10": 0.0, "recall@100": 0.0}
    latencies: list[float] = []
    judged = [qid for qid in dataset.queries if dataset.qrels.get(qid)][:max_queries]
    for query_id in judged:
        text = dataset.queries[query_id]
        started = time.perf_counter()
        vector = query_vectors(embedder, text).ranking if system != "bm25" else None
        hits = searcher.search_documents(vector, DEPTH + 1, text=text, system=system)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [doc_ids[h.doc_key] for h in hits if doc_ids[h.doc_key] != query_id][:DEPTH]
        relevant = dataset.qrels[query_id]
        totals["ndcg@10"] += ndcg_at(ranked, relevant, 10)
        totals["mrr@10"] += mrr_at(ranked, relevant, 10)
        for cut in (1, 10, 100):
            totals[f"recall@{cut}"] += recall_at(ranked, relevant, cut)
    count = max(len(judged), 1)
    result = {name: round(value / count, 4) for name, value in totals.items()}
    result["latency_ms_p50"] = round(percentile(latencies, 0.5), 2)
    result["latency_ms_p95"] = round(percentile(latencies, 0.95), 2)
    return result


def evaluate_retrieval(
    folder: Path,
    embedder: Embedder,
    workspace: Path,
    *,
    max_words: int,
    exact_max: int,
    default_system: System,
    systems: Sequence[System] = SYSTEMS,
    show_progress: bool = False,
    max_queries: int | None = None,
) -> dict[str, Any]:
    """Index the folder's corpus and score each system on its judged queries (all by default)."""
    dataset = load_beir(folder)
    searcher, doc_ids = index_dataset(
        dataset,
        embedder,
        workspace,
        max_words=max_words,
        exact_max=exact_max,
        show_progress=show_progress,
    )
    results = {}
    for system in tqdm(systems, desc="systems", disable=not show_progress):
        results[system] = _measure(searcher, embedder, dataset, doc_ids, system, max_queries)
    return {
        "dataset": dataset.name,
        "model": embedder.model_id,
        "documents": len(dataset.documents),
        "passages": len(searcher),
        "queries": len([q for q in dataset.queries if dataset.qrels.get(q)][:max_queries]),
        "default_system": default_system,
        "systems": results,
    }
