"""The router's settings in one place; the app fills them from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.model import ClassifierConfig


@dataclass(frozen=True)
class RoutingConfig:
    """How the router decides, and when it trusts which stage."""

    min_confidence: float = 0.5
    classifier_min_tickets: int = 200
    classifier_max_tickets: int = 20_000
    classifier_min_teams: int = 2
    neighbours: int = 20
    evidence_tickets: int = 5
    evidence_lines_per_team: int = 2
    vote_temperature: float = 0.02
    charter_temperature: float = 0.02
    charter_weight: float = 1.0
    max_words: int = 180
    models_kept: int = 2
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
