"""Resolved tickets the router remembers: nearest neighbours for evidence and the vote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.embedder import Vectors
from routing.decision import SimilarTicket


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
        k = min(k, len(similarity))
        top = np.argpartition(-similarity, k - 1)[:k]
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
