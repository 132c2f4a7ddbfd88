"""In-process comparison of the flat and HNSW FAISS indexes on the same stored vectors."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.common import percentile
from db.models import Passage
from index.dense import DenseIndex, Ids
from index.embedder import Vectors

K = 10


@dataclass(frozen=True)
class KindFigures:
    """Recall of HNSW against exact search, and per-query search times of both."""

    filter_name: str
    queries: int
    recall_at_10: float
    flat_p50_ms: float
    hnsw_p50_ms: float
    flat_p95_ms: float
    hnsw_p95_ms: float
    hnsw_short_results: int


def stored_vectors(factory: sessionmaker[Session]) -> tuple[Ids, Vectors, Ids]:
    """All passage ids and vectors, plus the ids of article passages (a selective filter)."""
    with factory() as session:
        rows = session.execute(
            select(Passage.id, Passage.embedding, Passage.article_id).order_by(Passage.id)
        ).all()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
    articles = np.array([row[0] for row in rows if row[2] is not None], dtype=np.int64)
    return ids, vectors.reshape(len(rows), -1), articles


def build_both(ids: Ids, vectors: Vectors) -> tuple[DenseIndex, DenseIndex, float]:
    """Flat and HNSW indexes over the same vectors; returns the HNSW build seconds too."""
    flat = DenseIndex(vectors.shape[1], "flat")
    flat.add(ids, vectors)
    started = time.perf_counter()
    hnsw = DenseIndex(vectors.shape[1], "hnsw")
    hnsw.add(ids, vectors)
    return flat, hnsw, time.perf_counter() - started


def _timed_search(index: DenseIndex, query: Vectors, allowed: Ids | None) -> tuple[Ids, float]:
    started = time.perf_counter()
    found, _ = index.search(query, K, allowed)
    return found, (time.perf_counter() - started) * 1000


def compare(
    flat: DenseIndex, hnsw: DenseIndex, queries: Vectors, allowed: Ids | None, name: str
) -> KindFigures:
    """Recall@10 of HNSW with exact search as the truth, on the same filter."""
    recalls: list[float] = []
    flat_ms: list[float] = []
    hnsw_ms: list[float] = []
    short = 0
    for query in queries:
        truth, flat_time = _timed_search(flat, query, allowed)
        found, hnsw_time = _timed_search(hnsw, query, allowed)
        flat_ms.append(flat_time)
        hnsw_ms.append(hnsw_time)
        short += len(found) < len(truth)
        if len(truth):
            recalls.append(len(set(truth.tolist()) & set(found.tolist())) / len(truth))
    return KindFigures(
        filter_name=name,
        queries=len(queries),
        recall_at_10=round(float(np.mean(recalls)) if recalls else 0.0, 4),
        flat_p50_ms=round(percentile(flat_ms, 0.5), 3),
        hnsw_p50_ms=round(percentile(hnsw_ms, 0.5), 3),
        flat_p95_ms=round(percentile(flat_ms, 0.95), 3),
        hnsw_p95_ms=round(percentile(hnsw_ms, 0.95), 3),
        hnsw_short_results=short,
    )
