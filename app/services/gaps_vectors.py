"""Vectors of a gap evaluation's corpus and queries, encoded once and kept between runs.

Encoding is the slow part of `stellwerk eval gaps` (a few thousand passages take minutes on
two cores); the cut and the clustering take seconds. Each text is cached under the hash of
its role and text (routing.vector_cache), so a changed chunk size or model encodes anew.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.embedder import Embedder, Vectors
from ingest.beir import BeirDataset
from ingest.ticket_vectors import mean_vector, ticket_passage_texts
from routing.vector_cache import VectorCache, ticket_key


@dataclass(frozen=True)
class DatasetVectors:
    """Passage vectors of every document and the ranking vector of every query."""

    passages: Vectors
    owner: npt.NDArray[np.int64]  # document position of each passage row
    queries: Vectors


def _cached(
    texts: Sequence[str],
    role: str,
    encode: Callable[[list[str]], Vectors],
    cache: VectorCache | None,
    dim: int,
) -> Vectors:
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    keys = [ticket_key([role, text]) for text in texts]
    found = cache.get(keys) if cache is not None else {}
    missing = sorted({i for i, key in enumerate(keys) if key not in found})
    if missing:
        fresh = encode([texts[i] for i in missing])
        if cache is not None:
            cache.put([keys[i] for i in missing], fresh)
        found.update({keys[i]: fresh[row] for row, i in enumerate(missing)})
    return np.stack([found[key] for key in keys]).astype(np.float32)


def dataset_vectors(
    dataset: BeirDataset,
    embedder: Embedder,
    *,
    max_words: int,
    cache_dir: Path | None,
    show_progress: bool = False,
) -> DatasetVectors:
    """Documents chunked and embedded as the pipeline does; queries as /suggest reads them."""
    cache = VectorCache(cache_dir, embedder.model_id, embedder.dim) if cache_dir else None
    texts: list[str] = []
    owner: list[int] = []
    for position, document in enumerate(dataset.documents):
        for text in ticket_passage_texts(document.title, document.description, max_words):
            texts.append(text)
            owner.append(position)

    def encode(batch: list[str]) -> Vectors:
        return embedder.encode_documents(batch, show_progress=show_progress)

    passages = _cached(texts, "passage", encode, cache, embedder.dim)
    # A query is an incoming ticket: embedded as the pipeline embeds a resolved ticket,
    # its passages averaged (what the gap miner reads from the database).
    query_passages = [
        ticket_passage_texts(text, "", max_words) for text in dataset.queries.values()
    ]
    flat = [text for texts in query_passages for text in texts]
    vectors = _cached(flat, "passage", encode, cache, embedder.dim)
    queries, start = [], 0
    for texts in query_passages:
        queries.append(mean_vector(vectors[start : start + len(texts)]))
        start += len(texts)
    return DatasetVectors(passages, np.asarray(owner, dtype=np.int64), np.stack(queries))
