"""Where "covered" ends: a cut on similarity scores read from the knowledge base itself.

e5 cosines sit in a narrow band whose position moves with the language, the length of the
texts and the domain, so no fixed number says "this ticket has an article". Instead every
candidate is scored twice against the knowledge base: its best article, and its runner-up
(the best once that article is gone). The runner-up is what the ticket would score if its
article were missing: a gap simulated on this very knowledge base. Covered means scoring
like a best match rather than like a runner-up, so the cut is the score that separates the
two samples best: where their empirical distribution functions lie furthest apart (the
Kolmogorov-Smirnov point). The clustering's cut is the covered tickets' median best
score in the centred similarity the clusters use (cluster_cut).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float32]
# Rows of a score matrix handled at a time where a copy is needed.
BLOCK = 1024


@dataclass(frozen=True)
class Coverage:
    """Each candidate's best and runner-up score and its best article (column index)."""

    best: Scores
    runner_up: Scores
    best_article: npt.NDArray[np.int64]


def coverage_of(scores: npt.NDArray[np.floating]) -> Coverage:
    """Best and runner-up per row of a (candidates x articles) score matrix.

    With a single article there is no runner-up: it scores -1, as far below as a cosine
    goes, so every candidate looks matched (nothing to compare a gap with)."""
    matrix = np.asarray(scores, dtype=np.float32)
    rows = np.arange(matrix.shape[0])
    if matrix.shape[1] == 0:
        empty = np.full(matrix.shape[0], -1.0, dtype=np.float32)
        return Coverage(empty, empty.copy(), np.full(matrix.shape[0], -1, dtype=np.int64))
    if matrix.shape[1] == 1:
        return Coverage(
            matrix[:, 0].copy(),
            np.full(matrix.shape[0], -1.0, dtype=np.float32),
            np.zeros(matrix.shape[0], dtype=np.int64),
        )
    # argmax, then the max once that column is masked: two linear passes (a partition of
    # every row costs several times as much at 100k candidates x hundreds of articles).
    best_article = matrix.argmax(axis=1).astype(np.int64)
    best = matrix[rows, best_article]
    runner_up = np.empty_like(best)
    for begin in range(0, len(rows), BLOCK):
        masked = matrix[begin : begin + BLOCK].copy()  # a block at a time: stays in cache
        masked[np.arange(len(masked)), best_article[begin : begin + BLOCK]] = -np.inf
        runner_up[begin : begin + BLOCK] = masked.max(axis=1)
    return Coverage(best, runner_up, best_article)


def separating_cut(high: npt.NDArray[np.floating], low: npt.NDArray[np.floating]) -> float:
    """The value t that best separates a sample expected high from one expected low:
    argmax over t of F_low(t) - F_high(t) (share of `low` at or below t minus share of
    `high` at or below t). Scores above t look like `high`. Ties go to the smallest t."""
    high_sorted = np.sort(np.asarray(high, dtype=np.float64))
    low_sorted = np.sort(np.asarray(low, dtype=np.float64))
    if high_sorted.size == 0 or low_sorted.size == 0:
        raise ValueError("separating_cut needs two non-empty samples")
    values = np.unique(np.concatenate([high_sorted, low_sorted]))
    below_high = np.searchsorted(high_sorted, values, side="right") / high_sorted.size
    below_low = np.searchsorted(low_sorted, values, side="right") / low_sorted.size
    return float(values[int(np.argmax(below_low - below_high))])


def coverage_cut(coverage: Coverage) -> float:
    """The score at or below which a candidate counts as not covered."""
    return separating_cut(coverage.best, coverage.runner_up)


def above_mean_cut(coverage: Coverage) -> float:
    """The coverage cut on scores above each article's mean (above_article_mean), never
    below 0: a candidate that scores no article above that article's mean over the
    period's candidates stands out for none, so it is not covered whatever the KS point
    says (on a handful of tickets, three alike and one other, the KS point can fall below
    them: tests/app/test_gaps_rules.py)."""
    return max(coverage_cut(coverage), 0.0)


def uncovered(coverage: Coverage, cut: float) -> npt.NDArray[np.bool_]:
    return np.asarray(coverage.best <= cut)


def cluster_cut(coverage: Coverage, covered: npt.NDArray[np.bool_]) -> float:
    """The similarity at which two uncovered candidates belong to one gap: the median best
    score (`coverage`, in the similarity the clusters use) of the covered ones. Two tickets
    are one topic when they are as close to each other as the typical covered ticket is to
    its article. Without covered ones, the highest best score: nothing merges by default.
    (The KS point of the covered best vs runner-up was above TF-IDF on five sets at seed 0
    but below it on 6 of 36 set-seed draws against 1 for the median: bench.gap_rules,
    docs/BENCHMARKS.md.)"""
    values = np.asarray(coverage.best, dtype=np.float64)
    chosen = values[np.asarray(covered, dtype=bool)]
    if chosen.size:
        return float(np.median(chosen))
    return float(values.max()) if values.size else 1.0


def centred(vectors: npt.NDArray[np.floating], mean: npt.NDArray[np.floating]) -> Scores:
    """Vectors minus the mean of the knowledge base and its candidates, renormalised.

    Every e5 vector shares one large common direction, which squeezes all cosines into a
    narrow band near 0.8-0.9; removing it spreads them out, so topics separate and the cuts
    above fall where the knowledge base's own scores fall apart (docs/BENCHMARKS.md).
    """
    shifted = np.asarray(vectors, dtype=np.float32) - np.asarray(mean, dtype=np.float32)
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    return np.asarray(shifted / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def above_article_mean(scores: npt.NDArray[np.floating]) -> Scores:
    """Each article's scores minus that article's mean score over the candidates.

    An article's raw similarities say as much about the article as about the ticket: a
    long or generic article is close to everything. Measured from its own mean over this
    period's tickets, an article covers the tickets it stands out for, not the ones every
    article is about as close to. Computed per knowledge base and period, so no number
    carries over from another set.

    Only the mean, not the spread: dividing by each article's spread (z-scores, the rule
    before) is an estimate from the candidates of one period, and with few of them (45 or
    65 tickets against hundreds of articles) an article that every ticket scores alike
    gets a tiny spread, so a ticket that scores it a hair higher looks as covered as one
    that matches its article; the best over hundreds of articles finds such an article for
    many an uncovered ticket. Over six sets and six seeds the mean alone raised the worst
    F1 from 0.102 to 0.221 (docs/BENCHMARKS.md)."""
    matrix = np.asarray(scores, dtype=np.float32)
    return np.asarray(matrix - matrix.mean(axis=0), dtype=np.float32)
