"""Retrieval evaluation: index a BEIR folder in a workspace and measure every system."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from tqdm import tqdm

from db.models import Ticket
from db.session import create_db_engine, migrate, session_factory
from index.analysis import guess_language
from index.embedder import Embedder, Vectors
from index.fusion import SYSTEMS, System
from index.metrics import mrr_at, ndcg_at, percentile, recall_at
from index.query_vector import QueryVectors
from index.searcher import Searcher
from ingest.beir import BeirDataset, load_beir
from ingest.index_sync import build_searcher
from ingest.pipeline import ingest_tickets
from ingest.reindex import fill_second_vectors
from routing.vector_cache import VectorCache, ticket_key

DEPTH = 100


def _keys(text: str) -> list[str]:
    return [ticket_key(["query", text]), ticket_key(["text", text])]


class QueryEncoder:
    """Each query encoded once per run, and kept on disk across runs when given a folder.

    Both role vectors are cached (under keys of their role and text), so the ranking blend
    is recomputed from them and follows `index.query_vector` if its weight changes.
    `encode_ms` holds, per batch encoded in this run, its time per query.
    """

    def __init__(self, embedder: Embedder, cache_dir: Path | None) -> None:
        self._embedder = embedder
        self._disk = VectorCache(cache_dir, embedder.model_id, embedder.dim) if cache_dir else None
        self._memory: dict[str, QueryVectors] = {}
        self.encode_ms: list[float] = []
        self.encoded = 0

    def prefetch(self, texts: Sequence[str]) -> None:
        """Encode the texts not cached yet, in batches, and write them to the disk cache.

        Batched as ingest encodes (`encode_queries`, `encode_documents`): one query at a time
        cost seconds each on a loaded machine. A batch pads to its longest text, which moves
        a vector by float rounding only.
        """
        missing = [text for text in dict.fromkeys(texts) if self._cached(text) is None]
        if not missing:
            return
        started = time.perf_counter()
        questions = self._embedder.encode_queries(missing)
        as_texts = self._embedder.encode_documents(missing)
        self.encode_ms.append((time.perf_counter() - started) * 1000 / len(missing))
        self.encoded += len(missing)
        for text, question, as_text in zip(missing, questions, as_texts, strict=True):
            self._memory[text] = QueryVectors.of(question, as_text)
        if self._disk is not None:
            keys = [key for text in missing for key in _keys(text)]
            rows = [row for pair in zip(questions, as_texts, strict=True) for row in pair]
            self._disk.put(keys, np.stack(rows))

    def _cached(self, text: str) -> QueryVectors | None:
        found = self._memory.get(text)
        if found is None and self._disk is not None:
            keys = _keys(text)
            stored = self._disk.get(keys)
            if len(stored) == 2:
                found = QueryVectors.of(stored[keys[0]], stored[keys[1]])
                self._memory[text] = found
        return found

    def __call__(self, text: str) -> QueryVectors:
        found = self._cached(text)
        if found is None:
            self.prefetch([text])
            found = self._memory[text]
        return found


class SecondQueryEncoder:
    """The search's second model's vector of each English query (as `LiveIndex` encodes
    it: the query by its words English, else none), once per run and cached on disk."""

    def __init__(self, second: Embedder, cache_dir: Path | None) -> None:
        self._second = second
        self._disk = VectorCache(cache_dir, second.model_id, second.dim) if cache_dir else None
        self._memory: dict[str, Vectors] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        english = [t for t in dict.fromkeys(texts) if guess_language(t) == "en"]
        keys = {text: ticket_key(["second", text]) for text in english}
        stored = self._disk.get(list(keys.values())) if self._disk is not None else {}
        missing = [text for text in english if keys[text] not in stored]
        for text in english:
            if keys[text] in stored:
                self._memory[text] = stored[keys[text]]
        if not missing:
            return
        vectors = self._second.encode_queries(missing)
        self._memory.update(zip(missing, vectors, strict=True))
        if self._disk is not None:
            self._disk.put([keys[text] for text in missing], vectors)

    def __call__(self, text: str) -> Vectors | None:
        return self._memory.get(text)


def index_dataset(
    dataset: BeirDataset,
    embedder: Embedder,
    workspace: Path,
    *,
    max_words: int,
    exact_max: int,
    show_progress: bool,
    second: Embedder | None = None,
) -> tuple[Searcher, dict[str, str]]:
    """Ingest the corpus through the production pipeline; returns the searcher and doc ids.

    With `second`, English documents get the second model's vectors (those ingested into
    the workspace before it was given are filled in, as `index rebuild` does)."""
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
            second=second,
        )
        if second is not None:
            fill_second_vectors(factory, second, show_progress=show_progress)
        with factory() as session:
            searcher = build_searcher(
                session,
                dim=embedder.dim,
                model_id=embedder.model_id,
                exact_max=exact_max,
                second_model_id=second.model_id if second is not None else None,
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
    encode: QueryEncoder,
    dataset: BeirDataset,
    doc_ids: dict[str, str],
    system: System,
    judged: Sequence[str],
    second: SecondQueryEncoder | None,
) -> dict[str, float]:
    totals = {"ndcg@10": 0.0, "mrr@10": 0.0, "recall@1": 0.0, "recall@10": 0.0, "recall@100": 0.0}
    latencies: list[float] = []
    for query_id in judged:
        text = dataset.queries[query_id]
        vector = encode(text).ranking if system != "bm25" else None
        second_query = second(text) if second is not None and system == "hybrid" else None
        started = time.perf_counter()
        hits = searcher.search_documents(
            vector, DEPTH + 1, text=text, system=system, second_query=second_query
        )
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
    cache_dir: Path | None = None,
    second: Embedder | None = None,
) -> dict[str, Any]:
    """Index the folder's corpus and score each system on its judged queries (all by default).

    Latencies are of the search alone; `encode_ms_per_query` is the batched encoding of the
    queries encoded in this run (absent when `cache_dir` held them all). With `second`, the
    search's second model ranks `hybrid`'s English candidates of English queries too.
    """
    dataset = load_beir(folder)
    searcher, doc_ids = index_dataset(
        dataset,
        embedder,
        workspace,
        max_words=max_words,
        exact_max=exact_max,
        show_progress=show_progress,
        second=second,
    )
    judged = [qid for qid in dataset.queries if dataset.qrels.get(qid)][:max_queries]
    encode = QueryEncoder(embedder, cache_dir)
    encode.prefetch([dataset.queries[qid] for qid in judged])
    second_encode = SecondQueryEncoder(second, cache_dir) if second is not None else None
    if second_encode is not None:
        second_encode.prefetch([dataset.queries[qid] for qid in judged])
    results = {}
    for system in tqdm(systems, desc="systems", disable=not show_progress):
        results[system] = _measure(
            searcher, encode, dataset, doc_ids, system, judged, second_encode
        )
    encoded = {}
    if encode.encode_ms:
        encoded = {"encode_ms_per_query": round(sum(encode.encode_ms) / len(encode.encode_ms), 2)}
    return {
        "dataset": dataset.name,
        "model": embedder.model_id,
        "second_model": second.model_id if second is not None else None,
        "documents": len(dataset.documents),
        "passages": len(searcher),
        "queries": len(judged),
        "default_system": default_system,
        **encoded,
        "systems": results,
    }
