"""Dense search at one million passages: HNSW settings against exact search, in one run.

The index holds real passages (the demo articles and real tickets, encoded by the default
engine) and, beyond them, perturbed copies of them up to `--size` (each a real vector plus
N(0, sigma) per dimension, normalised; sigma 0.02 as in the other latency benches, a copy's
cosine to its source about 0.93). The queries are the held-out tickets of
`bench.corpus.held_out_queries`, encoded as queries: none of them is in the index.

The baseline is exact search (FAISS flat inner product) on the same vectors and the same
queries in the same run: its top 10 is the truth recall@10 is measured against, and its
time per query is printed beside HNSW's. Every search runs one query at a time on one
thread, as the service searches. For each graph degree M one HNSW graph is built (on every
core, as `stellwerk index rebuild` builds it) and searched with each efSearch; the graph
with the shipped settings is saved and loaded again in a fresh process, which reports the
load time, its resident memory (what the dense index costs a replica) and its search times
through `index.dense.DenseIndex`, the service's own class.

    PYTHONPATH=. python -m bench.million --size 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.common import (
    DEFAULT_MODEL,
    MODEL_CACHE,
    format_table,
    load_note,
    percentile,
    print_json_line,
)
from bench.corpus import held_out_queries, open_factory, perturbed
from bench.index_kinds import stored_vectors
from bench.index_memory import rss_bytes
from bench.search_latency import real_passages
from index.dense import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, DenseIndex
from index.embedder import Vectors, default_engine, load_embedder

K = 10
RECALL_TARGET = 0.95


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="Passages in the index.")
    parser.add_argument("--tickets", type=int, default=10_000, help="Real tickets encoded.")
    parser.add_argument("--queries", type=int, default=500, help="Held-out queries.")
    parser.add_argument("--ms", default=f"16,{HNSW_M}", help="HNSW graph degrees to build.")
    parser.add_argument("--efs", default="32,64,96,128,192,256", help="efSearch values.")
    parser.add_argument("--sigma", type=float, default=0.02, help="Noise per dimension.")
    parser.add_argument(
        "--synthetic",
        choices=("mix", "noise"),
        default="mix",
        help="How vectors beyond the real ones are made.",
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "stellwerk-bench" / "million",
        help="Where the encoded passages and the saved graph go (reused by a later run).",
    )
    parser.add_argument(
        "--base-db",
        type=Path,
        help="Take the real vectors from this SQLite database (e.g. bench.suggest_latency's "
        "base.db, encoded by the default engine) instead of encoding them here.",
    )
    parser.add_argument("--load-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--query-file", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def rss_mb() -> float:
    return rss_bytes() / 2**20


def all_vectors(real: Vectors, size: int, sigma: float, synthetic: str) -> Vectors:
    """The real vectors first, then synthetic ones up to `size`.

    `noise`: copies of the real vectors in turn, each plus N(0, sigma) per dimension. In 384
    dimensions the noise is nearly orthogonal to everything, so the copies of one passage
    sit at the same distance from each other and from their source: a cluster of
    near-ties no real corpus has, and the hardest case for a graph search.
    `mix`: t * a + (1 - t) * b + the same noise, for random real passages a and b and t
    uniform in [0.5, 1]: a new point in the directions real passages span, nearer to a.
    """
    rng = np.random.default_rng(0)
    vectors = np.empty((size, real.shape[1]), dtype=np.float32)
    count = min(len(real), size)
    vectors[:count] = real[:count]
    batch = 50_000
    for start in range(count, size, batch):
        end = min(start + batch, size)
        sources = np.arange(start, end) % len(real)
        base = real[sources]
        if synthetic == "mix":
            partners = real[rng.integers(0, len(real), size=end - start)]
            t = rng.uniform(0.5, 1.0, size=(end - start, 1)).astype(np.float32)
            base = t * base + (1 - t) * partners
        vectors[start:end] = perturbed(base, sigma, rng)
    return vectors


def timed_searches(search: Any, queries: Vectors) -> tuple[np.ndarray[Any, Any], list[float]]:
    """Top-k ids per query and the milliseconds of each one-query search."""
    found = np.full((len(queries), K), -1, dtype=np.int64)
    times: list[float] = []
    for row, query in enumerate(queries):
        started = time.perf_counter()
        ids = search(query.reshape(1, -1))
        times.append((time.perf_counter() - started) * 1000)
        found[row, : len(ids)] = ids[:K]
    return found, times


def recall_at_k(found: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> float:
    hits = [len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / K


def build_hnsw(vectors: Vectors, m: int) -> tuple[Any, float]:
    """An HNSW graph as `DenseIndex` builds one, with degree `m`; returns the build seconds."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    inner = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index = faiss.IndexIDMap2(inner)
    started = time.perf_counter()
    index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    return index, time.perf_counter() - started


def load_in_fresh_process(path: Path, query_file: Path) -> dict[str, Any]:
    """Load the saved graph in a new interpreter and search through `DenseIndex` there."""
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.million",
            "--load-only",
            str(path),
            "--query-file",
            str(query_file),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def load_only(path: Path, query_file: Path) -> None:
    """The fresh process's side: load time, resident memory, search times, found ids."""
    queries = np.load(query_file)
    before = rss_mb()
    started = time.perf_counter()
    index = DenseIndex.load(path, "hnsw")
    load_seconds = time.perf_counter() - started
    after = rss_mb()
    found, times = timed_searches(lambda q: index.search(q[0], K)[0], queries)
    print(
        json.dumps(
            {
                "load_seconds": round(load_seconds, 2),
                "rss_mb_before_load": round(before, 1),
                "rss_mb": round(after, 1),
                "p50_ms": round(percentile(times, 0.5), 3),
                "p95_ms": round(percentile(times, 0.95), 3),
                "found": found.tolist(),
            }
        )
    )


def main() -> None:
    args = parse_args()
    if args.load_only is not None:
        load_only(args.load_only, args.query_file)
        return
    workdir = args.workdir / default_engine()
    workdir.mkdir(parents=True, exist_ok=True)
    print(load_note())
    real_vectors = (
        stored_vectors(open_factory(args.base_db)[1])[1]
        if args.base_db is not None
        else real_passages(workdir, args.tickets, args.model, threads=1).vectors
    )
    embedder = load_embedder(args.model, cache_dir=MODEL_CACHE)
    queries = embedder.encode_queries([q.text() for q in held_out_queries(args.queries)])
    query_file = workdir / "queries.npy"
    np.save(query_file, queries)
    vectors = all_vectors(real_vectors, args.size, args.sigma, args.synthetic)
    synthetic = max(0, args.size - len(real_vectors))
    print(f"{len(real_vectors)} real passages, {synthetic} synthetic ({args.synthetic})")

    faiss.omp_set_num_threads(1)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth, exact_times = timed_searches(lambda q, e=exact: e.search(q, K)[1][0], queries)
    del exact

    rows: list[list[object]] = [
        [
            "exact (flat)",
            "-",
            "-",
            "-",
            1.0,
            round(percentile(exact_times, 0.5), 2),
            round(percentile(exact_times, 0.95), 2),
        ]
    ]
    figures: list[dict[str, Any]] = []
    shipped: dict[str, Any] = {}
    for m in (int(v) for v in args.ms.split(",")):
        index, build_seconds = build_hnsw(vectors, m)
        print(f"M={m}: built in {build_seconds:.0f} s")
        faiss.omp_set_num_threads(1)
        for ef in (int(v) for v in args.efs.split(",")):
            params = faiss.SearchParametersHNSW(efSearch=ef)  # type: ignore[attr-defined]
            found, times = timed_searches(
                lambda q, p=params, i=index: i.search(q, K, params=p)[1][0], queries
            )
            figure = {
                "m": m,
                "ef_search": ef,
                "build_seconds": round(build_seconds, 1),
                "recall_at_10": round(recall_at_k(found, truth), 4),
                "p50_ms": round(percentile(times, 0.5), 3),
                "p95_ms": round(percentile(times, 0.95), 3),
            }
            figures.append(figure)
            rows.append(
                [
                    f"hnsw M={m}",
                    ef,
                    round(build_seconds),
                    figure["recall_at_10"],
                    round(figure["p95_ms"] / percentile(exact_times, 0.95), 3),
                    figure["p50_ms"],
                    figure["p95_ms"],
                ]
            )
        if m == HNSW_M:
            path = workdir / f"hnsw-{m}.faiss"
            started = time.perf_counter()
            faiss.write_index(index, str(path))
            write_seconds = time.perf_counter() - started
            loaded = load_in_fresh_process(path, query_file)
            shipped = {
                "m": m,
                "ef_search": HNSW_EF_SEARCH,
                "write_seconds": round(write_seconds, 2),
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "recall_at_10": round(recall_at_k(np.array(loaded.pop("found")), truth), 4),
                **loaded,
            }
        del index

    print(
        format_table(
            ["index", "efSearch", "build s", "recall@10", "p95 / exact p95", "p50 ms", "p95 ms"],
            rows,
        )
    )
    meeting = [f for f in figures if f["recall_at_10"] >= RECALL_TARGET]
    best = min(meeting, key=lambda f: f["p95_ms"]) if meeting else None
    print(f"fastest setting with recall@10 >= {RECALL_TARGET}: {best}")
    print(
        f"shipped (M={HNSW_M}, efSearch={HNSW_EF_SEARCH}) through DenseIndex in a fresh "
        f"process: {shipped}"
    )
    print_json_line(
        "million",
        {
            "size": args.size,
            "real": len(real_vectors),
            "engine": default_engine(),
            "synthetic": args.synthetic,
            "exact_p50_ms": round(percentile(exact_times, 0.5), 3),
            "exact_p95_ms": round(percentile(exact_times, 0.95), 3),
            "settings": figures,
            "fastest_meeting_recall": best,
            "shipped": shipped,
        },
    )


if __name__ == "__main__":
    main()
