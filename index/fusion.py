"""Fusing the dense and the lexical ranking into one, at document level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

System = Literal["dense", "bm25", "hybrid", "rrf"]
SYSTEMS: tuple[System, ...] = ("bm25", "dense", "hybrid", "rrf")

RRF_K = 60
# Documents each retriever contributes to a fused ranking (at least k).
FUSION_CANDIDATES = 100


@dataclass(frozen=True)
class FusionWeights:
    """How much each retriever counts; chosen by measurement (docs/BENCHMARKS.md, issue 17).

    Chosen by `bench/retrieval_lodo.py` for the largest smallest gain over the better
    single retriever across the six retrieval sets, on the shipped engine's (onnx-int8)
    lists (grid: lexical 0.7-1.3, agreement floor 0, 0.3, 1, full trust from 0/20/40 query
    groups), and checked leave-one-dataset-out. Short queries whose lists disagree lean on
    dense search; whole reports keep BM25's weight.
    """

    dense: float = 1.0
    lexical: float = 0.7
    # Share of the lexical trust kept when the two lists' heads share no document.
    agreement_floor: float = 0.0
    # Query length (term groups) from which BM25 counts fully whatever the lists say; a
    # shorter query keeps `groups / full_trust_groups` of it at least. 0: length is ignored.
    full_trust_groups: int = 40
    # Dense cosines less the query's closeness to each passage language (language_offset).
    centre_languages: bool = True
    # BM25 evidence measured within each passage language (`evidence_by_language`), in an
    # index of two languages (the same condition as the dense offsets).
    lexical_by_language: bool = True


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


def lexical_evidence(scores: Sequence[float], candidates: int) -> list[float]:
    """BM25 scores as spreads above the weakest candidate, on the scale of a z-score.

    `scores` are the best `candidates` (or fewer) scores of one query, best first. A
    document the query does not match scores 0, so a list shorter than `candidates` is
    padded with zeros before taking the spread: a lone exact match on an error code then
    stands far out (about sqrt(candidates) spreads), while scores of a full list
    are measured from its weakest member, as the dense z-scores are from their mean.
    """
    if not scores:
        return []
    slots = max(candidates, len(scores))
    values = np.zeros(slots, dtype=np.float64)
    values[: len(scores)] = scores
    spread = float(values.std())
    if spread < 1e-9:
        return [0.0] * len(scores)
    floor = float(values[-1])
    evidence: list[float] = ((values[: len(scores)] - floor) / spread).tolist()
    return evidence


def evidence_by_language(
    lexical: Sequence[Ranked], languages: Mapping[str, str], candidates: int
) -> list[float]:
    """`lexical_evidence` within each language's documents, in the list's order.

    A query's words are of one language: in a knowledge base of two, BM25 finds them
    ("geht", "nicht") only in passages of the query's language, where they lift many
    documents, while a passage in the other language can match only what both languages
    share (names, codes, cognates such as Kamera/camera). Measured against its own
    language's candidates, the passage that matches all of that stands out as far as a
    German one that matches the German words; measured against every candidate, it is
    buried under German documents that share a verb with the query.
    """
    evidence = [0.0] * len(lexical)
    for language in {languages.get(item.doc_key, "") for item in lexical}:
        rows = [i for i, item in enumerate(lexical) if languages.get(item.doc_key, "") == language]
        scores = lexical_evidence([lexical[i].score for i in rows], candidates)
        for row, value in zip(rows, scores, strict=True):
            evidence[row] = value
    return evidence


AGREEMENT_DEPTH = 10


def list_agreement(
    dense: Sequence[Ranked], lexical: Sequence[Ranked], depth: int = AGREEMENT_DEPTH
) -> float:
    """Share of the shorter of the two heads (best `depth` of each) found by both.

    When the two retrievers find the same documents, BM25's words are the query's meaning;
    when they find different ones, the query's words are used differently in the corpus
    (paraphrases, another language) and BM25's picks are the likelier to be wrong. A lone
    exact match (an error code in one document) that dense also ranks high agrees fully.
    """
    dense_head = {item.doc_key for item in dense[:depth]}
    lexical_head = {item.doc_key for item in lexical[:depth]}
    shorter = min(len(dense_head), len(lexical_head))
    if shorter == 0:
        return 0.0
    return len(dense_head & lexical_head) / shorter


def lexical_trust(
    coverage: float, agreement: float, weights: FusionWeights, groups: int = 0
) -> float:
    """How much BM25 counts for this query: known words, and lists that agree.

    Disagreement matters for short queries: two or three words (a paraphrased question)
    decide BM25's list alone, and when it differs from the dense list the words are used
    differently in the corpus. A whole report as the query (dozens of words) gives BM25
    robust evidence of its own, so from `full_trust_groups` words it counts fully.
    """
    known = min(max(coverage, 0.0), 1.0)
    floor = weights.agreement_floor
    if weights.full_trust_groups > 0:
        floor = max(floor, min(1.0, groups / weights.full_trust_groups))
    return weights.lexical * known * (floor + (1.0 - floor) * agreement)


def confidence_fusion(
    dense: Sequence[Ranked],
    lexical: Sequence[Ranked],
    *,
    coverage: float,
    weights: FusionWeights,
    candidates: int = FUSION_CANDIDATES,
    groups: int = 0,
    languages: Mapping[str, str] | None = None,
    second: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Dense standing plus lexical evidence, the latter trusted as far as the query is known.

    score(doc) = weights.dense * z_dense(doc) + weights.lexical * coverage * lex(doc)

    - z_dense: the document's cosine in standard deviations above the mean of the best
      `candidates` dense documents (`standardised`); a document only BM25 found gets the
      lowest candidate's value.
    - lex: `lexical_evidence`, BM25 in spreads above the weakest of the best `candidates`
      lexical documents (0 when BM25 did not find the document). Both terms are
      scale-free, so neither the corpus nor the query length moves their balance; the old
      share of the ideal BM25 score shrank with every query word and muted BM25 on long
      queries (bug reports), where it is strongest.
    - coverage: the share of query words the index knows at all (`LexicalIndex.coverage`).
      A German question against an English corpus knows a name or two (coverage ~0.3), so
      BM25's noise there cannot override the cross-lingual dense ranking; a query in the
      corpus's language has coverage near 1 and BM25 counts fully.

    - second: a second dense model's cosines (index.second_standing), given for the
      candidates where query and document are English; their dense standing is the mean of
      both models' standings (z_dense and the second cosines standardised among them), a
      mean rather than a fitted weight.

    One weight pair for every collection, chosen on all six retrieval sets for the largest
    worst-case gain over the better single retriever; figures in docs/BENCHMARKS.md.
    """
    dense = dense[:candidates]
    lexical = lexical[:candidates]
    dense_z = dict(
        zip((r.doc_key for r in dense), standardised([r.score for r in dense]), strict=True)
    )
    floor = min(dense_z.values(), default=0.0)
    if second:
        keys = dict.fromkeys([r.doc_key for r in dense] + [r.doc_key for r in lexical])
        english = [key for key in keys if key in second]
        for key, z in zip(english, standardised([second[k] for k in english]), strict=True):
            dense_z[key] = (dense_z.get(key, floor) + z) / 2
    fused = {key: weights.dense * z for key, z in dense_z.items()}
    trust = lexical_trust(coverage, list_agreement(dense, lexical), weights, groups)
    evidence = (
        lexical_evidence([r.score for r in lexical], candidates)
        if languages is None
        else evidence_by_language(lexical, languages, candidates)
    )
    for item, strength in zip(lexical, evidence, strict=True):
        base = fused.get(item.doc_key, weights.dense * floor)
        fused[item.doc_key] = base + trust * strength
    return fused


def ranked_keys(fused: Mapping[str, float]) -> list[str]:
    return sorted(fused, key=lambda key: fused[key], reverse=True)
