"""Memory of one replica's index per passage: FAISS (flat or HNSW), BM25, facets, metadata.

Builds a `Searcher` in this process from `--passages` passages (random unit vectors of the
default model's 384 dimensions; texts of the support tickets in shared/data, each copy with a
serial number so the vocabulary keeps growing as a real corpus does) and prints the growth of
the process's resident memory per passage. docs/SIZING.md extrapolates from it.

    PYTHONPATH=. python bench/index_memory.py --passages 20000 --kind flat
"""

from __future__ import annotations

import argparse
import gc
import json
from pathlib import Path

import numpy as np

from bench.common import SUPPORT_TICKETS
from index.dense import DenseIndex
from index.searcher import PassageMeta, Searcher

DIM = 384
TEAMS = ("network", "workplace", "identity", "apps", "servicedesk", "security")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--kind", choices=("flat", "hnsw"), default="flat")
    args = parser.parse_args()
    texts = ticket_texts()
    rng = np.random.default_rng(0)
    gc.collect()
    before = rss_bytes()
    searcher = Searcher(DenseIndex(DIM, args.kind))
    batch = 2_000
    words = 0
    for start in range(0, args.passages, batch):
        count = min(batch, args.passages - start)
        ids = range(start + 1, start + 1 + count)
        metas = [
            PassageMeta(
                i,
                f"ticket:{i}",
                {"kind": "ticket", "team": TEAMS[i % len(TEAMS)], "language": "de"},
            )
            for i in ids
        ]
        vectors = rng.standard_normal((count, DIM), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        batch_texts = [f"{texts[i % len(texts)]} ref{i}" for i in ids]
        words += sum(len(text.split()) for text in batch_texts)
        searcher.add(metas, vectors, batch_texts)
    gc.collect()
    grown = rss_bytes() - before
    print(
        f"{args.passages} passages ({args.kind}, {words / args.passages:.0f} words each): "
        f"{grown / 2**20:.0f} MiB, {grown / args.passages:.0f} bytes a passage "
        f"(vectors alone {DIM * 4} bytes)"
    )


if __name__ == "__main__":
    main()
