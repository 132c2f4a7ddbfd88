"""Memory of one replica's index per passage, by part: FAISS, BM25, metadata and facets,
the second model's vectors.

Builds each part of a `Searcher` in this process from `--passages` passages (random unit
vectors of the default model's 384 dimensions for e5 and for the second model; texts of the
support tickets in shared/data, each copy with a serial number so the vocabulary keeps
growing as a real corpus does; the facets `ingest.facets.ticket_facets` gives a ticket) and
prints the growth of the process's resident memory per passage, part by part, then the
whole `Searcher` the service holds built through `Searcher.add`. docs/SIZING.md
extrapolates from it. `--second-share` is the share of passages with a second-model
vector (English passages have one).

    PYTHONPATH=. python bench/index_memory.py --passages 100000 --kind flat
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import SUPPORT_TICKETS
from index.dense import DenseIndex
from index.lexical import LexicalIndex
from index.searcher import FacetIndex, PassageMeta, Searcher
from index.second_standing import SecondVectors
from ingest.facets import ticket_facets

DIM = 384
TEAMS = ("network", "workplace", "identity", "apps", "servicedesk", "security")
BATCH = 2_000


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def ticket_texts() -> list[str]:
    texts = []
    with SUPPORT_TICKETS.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            text = " ".join(str(row.get(k) or "") for k in ("title", "description", "resolution"))
            texts.append(" ".join(text.split()[:180]))  # one passage: chunk_max_words
    return texts


@dataclass(frozen=True)
class Ticket:
    team: str
    language: str


@dataclass(frozen=True)
class Batch:
    metas: list[PassageMeta]
    vectors: np.ndarray
    texts: list[str]
    second: dict[int, np.ndarray]


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def batches(passages: int, second_share: float, texts: list[str]) -> Iterator[Batch]:
    """The same passages on every call (seeded): one ticket each, facets as ingest sets them."""
    rng = np.random.default_rng(0)
    for start in range(0, passages, BATCH):
        ids = range(start + 1, start + 1 + min(BATCH, passages - start))
        metas = [
            PassageMeta(
                i,
                f"ticket:{i}",
                ticket_facets(Ticket(TEAMS[i % len(TEAMS)], "en" if i % 2 else "de")),
            )
            for i in ids
        ]
        vectors = unit_vectors(rng, len(metas))
        with_second = [i for i in ids if rng.random() < second_share]
        second = dict(zip(with_second, unit_vectors(rng, len(with_second)), strict=True))
        yield Batch(metas, vectors, [f"{texts[i % len(texts)]} ref{i}" for i in ids], second)


def measured(name: str, passages: int, build: Callable[[], object]) -> int:
    gc.collect()
    before = rss_bytes()
    built = build()
    gc.collect()
    grown = rss_bytes() - before
    del built
    print(f"  {name:<26} {grown / 2**20:8.0f} MiB {grown / passages:8.0f} bytes a passage")
    return grown


PARTS = ("dense", "lexical", "metadata", "second", "whole")
LABELS = {
    "dense": "dense (FAISS)",
    "lexical": "lexical (BM25)",
    "metadata": "metadata and facets",
    "second": "second-model vectors",
    "whole": "whole Searcher",
}


def build_part(part: str, n: int, kind: str, second_share: float) -> int:
    """Build one part in this process; the bytes its resident memory grew by."""
    texts = ticket_texts()

    def dense() -> DenseIndex:
        index = DenseIndex(DIM, "hnsw" if kind == "hnsw" else "flat")
        for batch in batches(n, second_share, texts):
            index.add(np.array([m.passage_id for m in batch.metas]), batch.vectors)
        return index

    def lexical() -> LexicalIndex:
        index = LexicalIndex()
        for batch in batches(n, second_share, texts):
            index.add_many((m.passage_id, t) for m, t in zip(batch.metas, batch.texts, strict=True))
        return index

    def metadata() -> tuple[dict[int, PassageMeta], FacetIndex]:
        metas: dict[int, PassageMeta] = {}
        facets = FacetIndex()
        for batch in batches(n, second_share, texts):
            for meta in batch.metas:
                metas[meta.passage_id] = meta
                facets.add(meta)
        return metas, facets

    def second() -> SecondVectors:
        vectors = SecondVectors("second")
        for batch in batches(n, second_share, texts):
            doc_of = {m.passage_id: m.doc_key for m in batch.metas}
            vectors.add({pid: (doc_of[pid], v) for pid, v in batch.second.items()})
        return vectors

    def whole() -> Searcher:
        searcher = Searcher(DenseIndex(DIM, "hnsw" if kind == "hnsw" else "flat"))
        searcher.use_second(SecondVectors("second"))
        for batch in batches(n, second_share, texts):
            searcher.add(batch.metas, batch.vectors, batch.texts, second=batch.second)
        return searcher

    builders: dict[str, Callable[[], object]] = {
        "dense": dense,
        "lexical": lexical,
        "metadata": metadata,
        "second": second,
        "whole": whole,
    }
    return measured(LABELS[part], n, builders[part])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--kind", choices=("flat", "hnsw"), default="flat")
    parser.add_argument("--second-share", type=float, default=0.5)
    parser.add_argument("--part", choices=PARTS, help="Build only this part (in this process).")
    args = parser.parse_args()
    n = args.passages
    if args.part:
        build_part(args.part, n, args.kind, args.second_share)
        return
    print(
        f"{n} passages ({args.kind}, vectors {DIM * 4} bytes, second-model vectors on "
        f"{args.second_share:.0%} of them), each part in a fresh process:",
        flush=True,
    )
    for part in PARTS:
        command = [sys.executable, "-m", "bench.index_memory", "--passages", str(n)]
        command += ["--kind", args.kind, "--second-share", str(args.second_share), "--part", part]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
