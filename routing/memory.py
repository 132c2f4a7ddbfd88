"""Resolved tickets the router remembers: nearest neighbours for evidence and the vote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from index.embedder import Vectors
from routing.decision import SimilarTicket


def top_k(similarity: npt.NDArray[np.floating], k: int) -> npt.NDArray[np.intp]:
    """Per row the positions of the k largest values, ascending; of equal values the
    earliest positions win.

    `np.argpartition` alone leaves ties at the k-th value to its SIMD kernel (AVX2,
    AVX-512 and plain builds pick different tickets), which changed the vote, the choice
    of model and the accuracy between machines; the k-th value itself is well defined.
    """
    rows = np.atleast_2d(similarity)
    k = min(k, rows.shape[1])
    if k <= 0:
        return np.zeros((rows.shape[0], 0), dtype=np.intp)
    kth = -np.partition(-rows, k - 1, axis=1)[:, k - 1 : k]
    above, equal = rows > kth, rows == kth
    wanted = k - above.sum(axis=1, keepdims=True)
    chosen = above | (equal & (np.cumsum(equal, axis=1) <= wanted))
    top = np.nonzero(chosen)[1].reshape(rows.shape[0], k)
    return top if similarity.ndim == 2 else top[0]


@dataclass
class TicketMemory:
    """Vectors and labels of resolved tickets, searched exactly (a few 10k fit easily)."""

    ticket_ids: list[int | None] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    vectors: Vectors = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.teams)

    @property
    def team_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for team in self.teams:
            counts[team] += 1
        return dict(counts)

    def nearest(
        self, vector: Vectors, k: int, *, exclude: int | None = None
    ) -> list[SimilarTicket]:
        """The k most similar resolved tickets, best first (`exclude`: a position to skip)."""
        if not self.teams or k <= 0:
            return []
        similarity = self.vectors @ vector
        if exclude is not None:
            similarity = similarity.copy()
            similarity[exclude] = -np.inf
        top = top_k(similarity, k)
        top = top[np.argsort(-similarity[top], kind="stable")]
        return [
            SimilarTicket(
                ticket_id=self.ticket_ids[i],
                external_id=self.external_ids[i],
                title=self.titles[i],
                team=self.teams[i],
                score=round(float(similarity[i]), 4),
            )
            for i in top.tolist()
            if np.isfinite(similarity[i])
        ]


def neighbour_vote(
    neighbours: Sequence[SimilarTicket],
    charter_scores: Mapping[str, float],
    *,
    temperature: float,
    charter_weight: float,
) -> dict[str, float]:
    """Similarity-weighted vote of resolved tickets, with each charter's best line as a voter.

    Weights are exp((score - best) / temperature): the closest neighbours dominate, and a
    charter line counts like one ticket of the same similarity times `charter_weight`.
    """
    voters = [(n.team, n.score, 1.0) for n in neighbours]
    voters += [(team, score, charter_weight) for team, score in charter_scores.items()]
    if not voters:
        return {}
    best = max(score for _, score, _ in voters)
    votes: dict[str, float] = defaultdict(float)
    for team, score, weight in voters:
        votes[team] += weight * float(np.exp((score - best) / temperature))
    total = sum(votes.values())
    return {team: vote / total for team, vote in votes.items()}
