"""Routing before there is history: similarity of a ticket to the lines of the team charters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.embedder import Embedder, Vectors
from ingest.markdown import sections_of
from routing.decision import CharterLine

# Sections of a charter that say what a team does; hours and contractor terms do not route.
ROUTING_HEADINGS = ("auftrag", "charter", "fähigkeit", "skill", "eskalation", "escalation")


@dataclass(frozen=True)
class Charter:
    """The routing-relevant text of one team charter (an article with `kind: team`)."""

    team: str
    slug: str
    name: str
    lines: tuple[tuple[str, str], ...]  # (section heading, line)


def charter_from_article(
    *, team: str, slug: str, title: str, body: str, name: str | None, tags: Sequence[str]
) -> Charter:
    """Pick mission, skills and escalation criteria, one line per paragraph or list item."""
    lines: list[tuple[str, str]] = []
    topic_tags = [tag for tag in tags if tag.lower() != "team"]
    if topic_tags:
        lines.append(("Tags", f"{name or title}: {', '.join(topic_tags)}"))
    for section in sections_of(body, title):
        heading = section.heading_path[-1] if len(section.heading_path) > 1 else ""
        if not any(word in heading.lower() for word in ROUTING_HEADINGS):
            continue
        for block in section.blocks:
            # "Escalate to X when:" introduces the list; it names the team, not a topic.
            if block.rstrip().endswith(":"):
                continue
            lines.append((heading, block))
    return Charter(team=team, slug=slug, name=name or title, lines=tuple(lines))


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
