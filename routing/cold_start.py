"""Routing before there is history: similarity of a ticket to the lines of the team charters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.embedder import Embedder, Vectors
from routing.charters import TeamCharter
from routing.decision import CharterLine


@dataclass(frozen=True)
class Charter:
    """The routing-relevant text of one team charter (an article with `kind: team`)."""

    team: str
    slug: str
    name: str
    lines: tuple[tuple[str, str], ...]  # (section heading, line)


def charter_for_routing(charter: TeamCharter) -> Charter:
    """The lines of a charter the router embeds (routing.charters decides which)."""
    return Charter(
        team=charter.team,
        slug=charter.slug,
        name=charter.name,
        lines=tuple(charter.routing_lines),
    )


@dataclass
class CharterIndex:
    """Charter lines with their embeddings, scored against a ticket vector."""

    charters: list[Charter] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)  # charter position per line
    vectors: Vectors = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    @classmethod
    def build(cls, charters: Iterable[Charter], embedder: Embedder) -> CharterIndex:
        kept = [c for c in charters if c.lines]
        texts: list[str] = []
        owners: list[int] = []
        for position, charter in enumerate(kept):
            for heading, line in charter.lines:
                texts.append(f"{charter.name} > {heading}\n{line}")
                owners.append(position)
        vectors = embedder.encode_documents(texts) if texts else np.zeros((0, embedder.dim))
        return cls(kept, owners, np.asarray(vectors, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.charters)

    @property
    def teams(self) -> list[str]:
        return sorted({c.team for c in self.charters})

    def team_scores(self, vector: Vectors) -> dict[str, float]:
        """Best line similarity per team."""
        if not self.owners:
            return {}
        similarity = self.vectors @ vector
        scores: dict[str, float] = {}
        for line, owner in enumerate(self.owners):
            team = self.charters[owner].team
            scores[team] = max(scores.get(team, -1.0), float(similarity[line]))
        return scores

    def matching_lines(
        self, vector: Vectors, *, teams: Sequence[str], per_team: int = 2
    ) -> list[CharterLine]:
        """The lines of the given teams' charters most similar to the ticket, best first."""
        if not self.owners:
            return []
        similarity = self.vectors @ vector
        found: list[CharterLine] = []
        for team in teams:
            lines = [i for i, owner in enumerate(self.owners) if self.charters[owner].team == team]
            for line in sorted(lines, key=lambda i: -similarity[i])[:per_team]:
                charter = self.charters[self.owners[line]]
                heading, text = charter.lines[line - self.owners.index(self.owners[line])]
                score = round(float(similarity[line]), 4)
                found.append(CharterLine(team, charter.slug, heading, text, score))
        return found


def softmax(scores: dict[str, float], temperature: float) -> dict[str, float]:
    """Scores to probabilities; a small temperature separates close embedding scores."""
    if not scores:
        return {}
    best = max(scores.values())
    weights = {team: float(np.exp((s - best) / temperature)) for team, s in scores.items()}
    total = sum(weights.values())
    return {team: w / total for team, w in weights.items()}


def charter_probabilities(
    charters: CharterIndex, vector: Vectors, *, temperature: float
) -> dict[str, float]:
    """Day-one routing: a softmax over each team's best-matching charter line."""
    return softmax(charters.team_scores(vector), temperature)
