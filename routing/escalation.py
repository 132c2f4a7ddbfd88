"""The escalation decision: resolve at first level, escalate to a team, or the dispatcher.

The rule of the founding text: first level applies a proven fix before escalating, and
escalates to the team the router names with confidence; below that, a person decides.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Literal

from routing.decision import DISPATCHER, RoutingDecision

EscalationAction = Literal["resolve_at_first_level", "escalate", "dispatcher"]


@dataclass(frozen=True)
class HowTo:
    """The best-ranked how-to article for a ticket, as a candidate proven fix."""

    slug: str
    title: str
    team: str | None
    similarity: float  # cosine of the ticket (question role) and the how-to
    first_level: bool = True  # False: its front matter reserves it for second level


@dataclass(frozen=True)
class EscalationDecision:
    """What first level does with the ticket, and the routing as the caller may see it."""

    action: EscalationAction
    team: str | None
    reason: str
    how_to: HowTo | None
    routing: RoutingDecision


def restrict_to_teams(decision: RoutingDecision, visible: Collection[str]) -> RoutingDecision:
    """The decision as a caller who sees only some team charters may read it.

    A contractor learns no team the catalogue does not show them: other teams drop out of
    the candidates, and when the router's choice is one of them the dispatcher decides.
    """
    teams = [t for t in decision.teams if t.team in visible]
    if decision.team is None or decision.team in visible:
        return replace(decision, teams=teams)
    return replace(
        decision,
        team=None,
        teams=teams,
        abstained=True,
        reason=f"{DISPATCHER}: the ticket belongs to a team outside your catalogue.",
    )


def proven_fix(
    decision: RoutingDecision, how_to: HowTo | None, *, min_similarity: float
) -> HowTo | None:
    """The how-to first level applies, if any.

    It must be close enough (a cosine keeps one meaning across queries, unlike a fused
    score), open to first level, and not contradicted by the router: when the router is
    sure the ticket belongs to another team's field, a close wording is a coincidence.
    """
    if how_to is None or not how_to.first_level or how_to.similarity < min_similarity:
        return None
    if decision.team is not None and how_to.team not in (None, decision.team):
        return None
    return how_to


def decide_escalation(
    decision: RoutingDecision,
    how_to: HowTo | None,
    *,
    min_similarity: float,
    visible_teams: Collection[str] | None = None,
) -> EscalationDecision:
    """resolve_at_first_level, escalate or dispatcher, for a caller who sees `visible_teams`
    (None: every team)."""
    fix = proven_fix(decision, how_to, min_similarity=min_similarity)
    seen = decision if visible_teams is None else restrict_to_teams(decision, visible_teams)
    if fix is not None:
        reason = (
            f'The how-to "{fix.title}" matches this ticket closely (similarity '
            f"{fix.similarity:.2f}): first level applies it before escalating."
        )
        return EscalationDecision("resolve_at_first_level", None, reason, fix, seen)
    if seen.team is None:
        return EscalationDecision("dispatcher", None, seen.reason, None, seen)
    reason = f"Escalate to {seen.team}: {seen.reason}"
    return EscalationDecision("escalate", seen.team, reason, None, seen)
