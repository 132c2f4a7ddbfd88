"""What the router answers: top teams with confidence, evidence, and when it abstains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["charters", "vote", "classifier", "none"]

DISPATCHER = "dispatcher decides"


@dataclass(frozen=True)
class TeamConfidence:
    team: str
    confidence: float


@dataclass(frozen=True)
class SimilarTicket:
    """A resolved ticket close to the new one: evidence for its team."""

    ticket_id: int | None
    external_id: str
    title: str
    team: str
    score: float


@dataclass(frozen=True)
class CharterLine:
    """A line of a team charter (mission, skill or escalation criterion) that matches."""

    team: str
    slug: str
    section: str
    text: str
    score: float


@dataclass(frozen=True)
class RoutingDecision:
    """The router's answer for one ticket.

    `team` is None when the router abstains: the best confidence is below the threshold and
    the dispatcher decides. `teams` still lists the top candidates for the dispatcher.
    """

    team: str | None
    confidence: float
    teams: list[TeamConfidence]
    stage: Stage
    abstained: bool
    reason: str
    similar_tickets: list[SimilarTicket] = field(default_factory=list)
    charter_lines: list[CharterLine] = field(default_factory=list)


_STAGE_WORDS: dict[Stage, str] = {
    "charters": "similarity to the team charters (no resolved tickets yet)",
    "vote": "a similarity-weighted vote of the nearest resolved tickets and the charters",
    "classifier": "the classifier trained on resolved tickets",
    "none": "nothing (no charters and no resolved tickets)",
}


def decide(
    probabilities: Mapping[str, float],
    *,
    stage: Stage,
    min_confidence: float,
    top: int = 3,
    similar_tickets: Sequence[SimilarTicket] = (),
    charter_lines: Sequence[CharterLine] = (),
) -> RoutingDecision:
    """Rank teams and abstain below `min_confidence` (ties break by team name)."""
    ranked = sorted(probabilities.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    teams = [TeamConfidence(team, round(float(p), 4)) for team, p in ranked]
    tickets, lines = list(similar_tickets), list(charter_lines)
    if not teams:
        reason = f"{DISPATCHER}: no charters or tickets to route by."
        return RoutingDecision(None, 0.0, [], "none", True, reason, tickets, lines)
    best = teams[0]
    source = _STAGE_WORDS[stage]
    if best.confidence < min_confidence:
        return RoutingDecision(
            team=None,
            confidence=best.confidence,
            teams=teams,
            stage=stage,
            abstained=True,
            reason=(
                f"{DISPATCHER}: {best.confidence:.0%} for {best.team} from {source} is below "
                f"the threshold of {min_confidence:.0%}."
            ),
            similar_tickets=tickets,
            charter_lines=lines,
        )
    return RoutingDecision(
        team=best.team,
        confidence=best.confidence,
        teams=teams,
        stage=stage,
        abstained=False,
        reason=f"{best.confidence:.0%} for {best.team} from {source}.",
        similar_tickets=tickets,
        charter_lines=lines,
    )
