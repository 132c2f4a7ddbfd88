"""Group uncovered tickets into gaps: average-linkage clustering on cosine similarity.

Two tickets belong to one gap when, on average, a ticket of the group is as close to the
others as a typical covered ticket is to its article (gaps_cut.cluster_cut is the merge
threshold), so a gap is a set of tickets that would
cover each other if one of them were written up. Average linkage, not single: single
linkage chains a long gradient of tickets into one blob.

Exact average linkage holds every pair in memory and costs O(n² log n) (3,000 tickets: 18 s on
the shared machine, 1,000: under 3 s), so above `EXACT_MAX` tickets the groups
are built in rounds: a seeded sample is clustered exactly, every other ticket joins the
group whose average similarity to it (its dot product with the group's mean vector, the
same criterion average linkage merges by) reaches the cut, and the rest go to the next
round. The result is deterministic for a given input order and seed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.cluster import AgglomerativeClustering

Labels = npt.NDArray[np.int64]

EXACT_MAX = 1000


def _exact(vectors: npt.NDArray[np.float32], cut: float) -> Labels:
    count = len(vectors)
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    distances = np.clip(1.0 - (vectors @ vectors.T).astype(np.float64), 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    # Merges go on while the average distance stays below the threshold: similarity >= cut
    # (the threshold is nudged up so that an average of exactly 1 - cut still merges).
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=float(np.nextafter(1.0 - cut, np.inf)),
    )
    return np.asarray(model.fit_predict(distances), dtype=np.int64)


def cluster(vectors: npt.NDArray[np.floating], cut: float, *, seed: int = 0) -> Labels:
    """A cluster label per row (0..k-1) of L2-normalised vectors; rows whose average
    similarity to a group reaches `cut` share its label."""
    matrix = np.asarray(vectors, dtype=np.float32)
    labels = np.full(len(matrix), -1, dtype=np.int64)
    pending = np.arange(len(matrix))
    rng = np.random.default_rng(seed)
    next_label = 0
    while pending.size:
        if pending.size <= EXACT_MAX:
            labels[pending] = _exact(matrix[pending], cut) + next_label
            break
        sample = np.sort(rng.choice(pending, EXACT_MAX, replace=False))
        sample_labels = _exact(matrix[sample], cut)
        groups = int(sample_labels.max()) + 1
        means = np.zeros((groups, matrix.shape[1]), dtype=np.float32)
        np.add.at(means, sample_labels, matrix[sample])
        means /= np.bincount(sample_labels, minlength=groups)[:, None]
        labels[sample] = sample_labels + next_label
        rest = np.setdiff1d(pending, sample, assume_unique=True)
        affinity = matrix[rest] @ means.T
        nearest = affinity.argmax(axis=1)
        joins = affinity[np.arange(rest.size), nearest] >= cut
        labels[rest[joins]] = nearest[joins] + next_label
        next_label += groups
        pending = rest[~joins]
    return labels


def medoid(vectors: npt.NDArray[np.floating]) -> int:
    """The row closest on average to the others: a group's most typical member."""
    matrix = np.asarray(vectors, dtype=np.float32)
    return int(np.argmax(matrix @ matrix.sum(axis=0)))
