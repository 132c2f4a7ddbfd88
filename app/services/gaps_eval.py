"""`stellwerk eval gaps`: does the gap miner find what is missing from a knowledge base?

A BEIR folder becomes a knowledge base with holes: a seeded share of the corpus documents
is removed, the queries are the incoming tickets, and a query is truly uncovered when every
document relevant to it was removed. Each system scores every query against the remaining
documents, cuts with the rule of gaps_cut (no labels: the cut comes from the scores), and
clusters with gaps_clusters at that cut. Figures: precision, recall and F1 of the queries
flagged as uncovered, and the adjusted Rand index of the clusters the system forms over
the truly uncovered queries against the removed document each belongs to (`ari`); also
over the true ones among those it flagged (`ari_flagged`: what a user of the miner sees).

`stellwerk` is the production path: documents chunked and embedded as the pipeline does,
a query read as an incoming ticket is read (its passages averaged), a document's score
its best passage. `tfidf` is the baseline in the same run: TF-IDF fitted on the remaining
corpus, cosine of a query to each document, the same cut rule and the same clustering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score

from app.services.gaps_clusters import cluster
from app.services.gaps_cut import (
    Coverage,
    above_article_mean,
    above_mean_cut,
    centred,
    cluster_cut,
    coverage_cut,
    coverage_of,
    uncovered,
)
from app.services.gaps_vectors import DatasetVectors, dataset_vectors
from index.embedder import Embedder
from ingest.beir import BeirDataset, load_beir
from ingest.errors import IngestError

# How the clusters' merge cut is read from the covered candidates (gaps_cut.cluster_cut).
MergeRule = Callable[[Coverage, npt.NDArray[np.bool_]], float]


@dataclass(frozen=True)
class GapTask:
    """The held-out documents and, per judged query, whether it lost all its answers."""

    removed: npt.NDArray[np.bool_]  # per corpus document
    queries: npt.NDArray[np.int64]  # positions (in dataset.queries) of the judged queries
    truly_uncovered: npt.NDArray[np.bool_]  # per judged query
    removed_answer: npt.NDArray[np.int64]  # per judged query: its removed document, or -1


def gap_task(dataset: BeirDataset, remove_fraction: float, seed: int) -> GapTask:
    if not 0.0 < remove_fraction < 1.0:
        raise IngestError(
            f"--remove-fraction must lie strictly between 0 and 1, got {remove_fraction}."
        )
    count = len(dataset.documents)
    removed_count = round(remove_fraction * count)
    if removed_count < 1 or removed_count >= count:
        raise IngestError(f"Removing {remove_fraction:.0%} of {count} documents leaves no task.")
    removed = np.zeros(count, dtype=bool)
    removed[np.random.default_rng(seed).choice(count, removed_count, replace=False)] = True
    position = {document.id: index for index, document in enumerate(dataset.documents)}
    judged, truth, answer = [], [], []
    for index, query_id in enumerate(dataset.queries):
        relevant = sorted(
            (-score, position[doc])
            for doc, score in dataset.qrels.get(query_id, {}).items()
            if doc in position and score > 0
        )
        if not relevant:
            continue
        lost = all(removed[doc] for _, doc in relevant)
        judged.append(index)
        truth.append(lost)
        answer.append(relevant[0][1] if lost else -1)
    if not any(truth):
        raise IngestError("No query lost all its relevant documents: raise --remove-fraction.")
    return GapTask(
        removed,
        np.asarray(judged, dtype=np.int64),
        np.asarray(truth, dtype=bool),
        np.asarray(answer, dtype=np.int64),
    )


def _ari(labels: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float | None:
    return round(float(adjusted_rand_score(truth, labels)), 4) if len(truth) > 1 else None


def score_system(
    task: GapTask,
    scores: npt.NDArray[np.floating],
    query_vectors: npt.NDArray[np.float32],
    *,
    detect: npt.NDArray[np.floating] | None = None,
    cut_rule: Callable[[Coverage], float] = coverage_cut,
    merge_rule: MergeRule = cluster_cut,
) -> dict[str, Any]:
    """Figures of one system from its (judged queries x remaining documents) similarities,
    the (judged queries x dim) vectors it clusters by (in the same similarity), and the
    scores it detects uncovered queries by (default: the similarities themselves).
    `cut_rule` reads the coverage cut from `detect`; `merge_rule` is the production one
    unless a bench compares another (bench.gap_rules)."""
    coverage = coverage_of(scores if detect is None else detect)
    cut = cut_rule(coverage)
    flagged = uncovered(coverage, cut)
    merge = merge_rule(coverage_of(scores), ~flagged)
    truth = task.truly_uncovered
    hits = int((flagged & truth).sum())
    precision = hits / int(flagged.sum()) if flagged.any() else 0.0
    recall = hits / int(truth.sum())
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    true_rows = np.flatnonzero(truth)
    flagged_rows = np.flatnonzero(flagged)
    flagged_labels = cluster(query_vectors[flagged_rows], merge)
    flagged_true = truth[flagged_rows]
    return {
        "cut": round(cut, 4),
        "cluster_cut": round(merge, 4),
        "flagged": int(flagged.sum()),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "ari": _ari(cluster(query_vectors[true_rows], merge), task.removed_answer[true_rows]),
        "ari_flagged": _ari(
            flagged_labels[flagged_true], task.removed_answer[flagged_rows[flagged_true]]
        ),
    }


def _best_passages(
    task: GapTask, vectors: DatasetVectors, queries: npt.NDArray[np.float32], passages: Any
) -> npt.NDArray[np.float32]:
    """(queries x remaining documents): each document's best passage."""
    kept = ~task.removed[vectors.owner]
    remaining = np.flatnonzero(~task.removed)
    column = np.full(task.removed.size, -1, dtype=np.int64)
    column[remaining] = np.arange(remaining.size)
    scores = np.full((len(queries), remaining.size), -1.0, dtype=np.float32)
    np.maximum.at(scores.T, column[vectors.owner[kept]], (queries @ passages.T).T)
    return scores


@dataclass(frozen=True)
class SystemInputs:
    """What score_system reads for one system: similarities, cluster vectors, detection."""

    scores: npt.NDArray[np.floating]
    vectors: npt.NDArray[np.float32]
    detect: npt.NDArray[np.floating] | None = None
    cut_rule: Callable[[Coverage], float] = coverage_cut


def stellwerk_inputs(task: GapTask, vectors: DatasetVectors) -> SystemInputs:
    """The production path (as gaps.mine_gaps reads it): detection on cosines above
    each article's mean, clusters on centred vectors."""
    kept = ~task.removed[vectors.owner]
    queries = vectors.queries[task.queries]
    raw = _best_passages(task, vectors, queries, vectors.passages[kept])
    mean = np.concatenate([vectors.passages[kept], queries]).mean(axis=0)
    spread_queries = centred(queries, mean)
    spread = _best_passages(task, vectors, spread_queries, centred(vectors.passages[kept], mean))
    return SystemInputs(spread, spread_queries, above_article_mean(raw), above_mean_cut)


def stellwerk_figures(task: GapTask, vectors: DatasetVectors) -> dict[str, Any]:
    """The production path's figures from the dataset's vectors."""
    inputs = stellwerk_inputs(task, vectors)
    return score_system(
        task, inputs.scores, inputs.vectors, detect=inputs.detect, cut_rule=inputs.cut_rule
    )


def tfidf_inputs(dataset: BeirDataset, task: GapTask, *, fit_queries: bool = False) -> SystemInputs:
    """The baseline: weights from the remaining corpus (as an index of the knowledge base
    holds them), each query's cosine to each document. A query about a removed topic may
    share no word with the corpus and so has no vector to cluster by; `fit_queries` fits
    on the queries too (a stronger baseline, docs/BENCHMARKS.md)."""
    texts = [f"{d.title}\n{d.description}" for d in dataset.documents]
    remaining = [t for t, gone in zip(texts, task.removed, strict=True) if not gone]
    query_texts = [list(dataset.queries.values())[i] for i in task.queries]
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    vectorizer.fit(remaining + query_texts if fit_queries else remaining)
    corpus = vectorizer.transform(remaining)
    queries = vectorizer.transform(query_texts)
    scores = (queries @ corpus.T).toarray()
    return SystemInputs(scores, np.asarray(queries.toarray(), dtype=np.float32))


def tfidf_figures(
    dataset: BeirDataset, task: GapTask, *, fit_queries: bool = False
) -> dict[str, Any]:
    inputs = tfidf_inputs(dataset, task, fit_queries=fit_queries)
    return score_system(task, inputs.scores, inputs.vectors)


def evaluate_gaps(
    folder: Path,
    embedder: Embedder,
    *,
    remove_fraction: float,
    seed: int,
    max_words: int,
    cache_dir: Path | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Both systems on one BEIR folder with the same documents removed."""
    dataset = load_beir(folder)
    task = gap_task(dataset, remove_fraction, seed)
    vectors = dataset_vectors(
        dataset, embedder, max_words=max_words, cache_dir=cache_dir, show_progress=show_progress
    )
    return {
        "dataset": dataset.name,
        "model": embedder.model_id,
        "documents": len(dataset.documents),
        "removed": int(task.removed.sum()),
        "queries": len(task.queries),
        "uncovered": int(task.truly_uncovered.sum()),
        "remove_fraction": remove_fraction,
        "seed": seed,
        "systems": {
            "stellwerk": stellwerk_figures(task, vectors),
            "tfidf": tfidf_figures(dataset, task),
        },
    }
