"""The router's settings in one place; the app fills them from `Settings`."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.routing.model import ClassifierConfig
from app.settings import Settings


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


def routing_config_from(settings: Settings) -> RoutingConfig:
    """The router's part of the settings; the rest keeps the measured defaults."""
    return RoutingConfig(
        min_confidence=settings.routing_min_confidence,
        classifier_min_tickets=settings.routing_classifier_min_tickets,
        classifier_max_tickets=settings.routing_classifier_max_tickets,
        neighbours=settings.routing_neighbours,
        models_kept=settings.routing_models_kept,
        max_words=settings.chunk_max_words,
    )
