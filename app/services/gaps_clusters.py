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

With key terms (gaps_terms), the similarity is the mean of the vectors' cosine and the
key terms' cosine: the terms are a sparse block beside the dense one, so the (tickets x
vocabulary) matrix is never made dense; a group's mean has a dense and a sparse part.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.cluster import AgglomerativeClustering

Labels = npt.NDArray[np.int64]
# A scipy.sparse CSR matrix, one L2-normalised row per text (scipy ships no types).
Terms: TypeAlias = Any

EXACT_MAX = 1000


def _similarities(
    vectors: npt.NDArray[np.float32],
    terms: Terms | None,
    means: npt.NDArray[np.float32],
    mean_terms: Terms | None,
) -> npt.NDArray[np.float64]:
    """(rows x groups) similarity: cosine of the vectors, averaged with the key terms'."""
    dense = np.asarray(vectors @ means.T, dtype=np.float64)
    if terms is None or mean_terms is None:
        return dense
    lexical = np.asarray((terms @ mean_terms.T).toarray(), dtype=np.float64)
    return 0.5 * dense + 0.5 * lexical


def _exact(vectors: npt.NDArray[np.float32], cut: float, terms: Terms | None = None) -> Labels:
    count = len(vectors)
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    similar = _similarities(vectors, terms, vectors, terms)
    distances = np.clip(1.0 - similar, 0.0, 2.0)
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


def cluster(
    vectors: npt.NDArray[np.floating],
    cut: float,
    *,
    terms: Terms | None = None,
    seed: int = 0,
) -> Labels:
    """A cluster label per row (0..k-1) of L2-normalised vectors; rows whose average
    similarity to a group reaches `cut` share its label. `terms`, one L2-normalised sparse
    row per vector, makes the similarity the mean of both cosines."""
    matrix = np.asarray(vectors, dtype=np.float32)
    words = sparse.csr_matrix(terms, dtype=np.float32) if terms is not None else None
    if words is not None and words.shape[0] != len(matrix):
        raise ValueError("terms need one row per vector")
    labels = np.full(len(matrix), -1, dtype=np.int64)
    pending = np.arange(len(matrix))
    rng = np.random.default_rng(seed)
    next_label = 0
    while pending.size:
        pending_words = words[pending] if words is not None else None
        if pending.size <= EXACT_MAX:
            labels[pending] = _exact(matrix[pending], cut, pending_words) + next_label
            break
        sample = np.sort(rng.choice(pending, EXACT_MAX, replace=False))
        sample_words = words[sample] if words is not None else None
        sample_labels = _exact(matrix[sample], cut, sample_words)
        groups = int(sample_labels.max()) + 1
        sizes = np.bincount(sample_labels, minlength=groups)
        means = np.zeros((groups, matrix.shape[1]), dtype=np.float32)
        np.add.at(means, sample_labels, matrix[sample])
        means /= sizes[:, None]
        mean_words = None
        if sample_words is not None:  # the same means of the sparse rows, by one product
            average = sparse.csr_matrix(
                (1.0 / sizes[sample_labels], (sample_labels, np.arange(sample.size))),
                shape=(groups, sample.size),
                dtype=np.float32,
            )
            mean_words = average @ sample_words
        labels[sample] = sample_labels + next_label
        rest = np.setdiff1d(pending, sample, assume_unique=True)
        rest_words = words[rest] if words is not None else None
        affinity = _similarities(matrix[rest], rest_words, means, mean_words)
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
