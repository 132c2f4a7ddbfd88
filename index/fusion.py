"""Fusing the dense and the lexical ranking into one, at document level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

System = Literal["dense", "bm25", "hybrid", "rrf"]
SYSTEMS: tuple[System, ...] = ("bm25", "dense", "hybrid", "rrf")

RRF_K = 60


@dataclass(frozen=True)
class FusionWeights:
    """How much each retriever counts; chosen by measurement (docs/BENCHMARKS.md)."""

    dense: float = 1.0
    lexical: float = 1.0


@dataclass(frozen=True)
class Ranked:
    """A document's score from one retriever, with its best passage."""

    doc_key: str
    score: float
    best_passage_id: int


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Ranked]]) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            fused[item.doc_key] = fused.get(item.doc_key, 0.0) + 1.0 / (RRF_K + rank + 1)
    return fused


def standardised(scores: Sequence[float]) -> list[float]:
    """Scores as standard deviations above the candidates' mean.

    Embedding cosines of one model sit in a narrow band that shifts from query to query;
    what carries meaning is how far a document stands out from the other candidates.
    """
    if not scores:
        return []
    values = np.asarray(scores, dtype=np.float64)
    spread = float(values.std())
    if spread < 1e-9:
        return [0.0] * len(scores)
    standard: list[float] = ((values - values.mean()) / spread).tolist()
    return standard


def confidence_fusion(
    dense: Sequence[Ranked],
    lexical: Sequence[Ranked],
    *,
    lexical_ceiling: float,
    weights: FusionWeights,
) -> dict[str, float]:
    """Dense standing plus lexical evidence, weighted by how trustworthy the lexical match is.

    The lexical score is divided by `lexical_ceiling`, the BM25 a passage would reach by
    matching every query term: a German question against an English corpus matches only a
    name or two and lands near 0, so it cannot push noise above the dense ranking; a query
    whose error code or product name matches exactly lands near 1 and counts fully.
    """
    dense_z = dict(
        zip((r.doc_key for r in dense), standardised([r.score for r in dense]), strict=True)
    )
    floor = min(dense_z.values(), default=0.0)
    fused: dict[str, float] = {}
    for item in dense:
        fused[item.doc_key] = weights.dense * dense_z[item.doc_key]
    if lexical_ceiling > 0:
        for item in lexical:
            share = min(item.score / lexical_ceiling, 1.0)
            base = fused.get(item.doc_key, weights.dense * floor)
            fused[item.doc_key] = base + weights.lexical * share * _LEXICAL_SCALE
    return fused


# Puts a perfect lexical match on the scale of a dense standout (a few standard deviations).
_LEXICAL_SCALE = 4.0


def ranked_keys(fused: Mapping[str, float]) -> list[str]:
    return sorted(fused, key=lambda key: fused[key], reverse=True)
