"""The staged router: team charters on day one, then a ticket vote, then the classifier."""

from __future__ import annotations

from dataclasses import dataclass, replace

from index.embedder import Vectors
from routing.cold_start import CharterIndex, charter_probabilities
from routing.config import RoutingConfig
from routing.decision import RoutingDecision, Stage, decide
from routing.memory import TicketMemory, neighbour_vote
from routing.model import TeamClassifier


@dataclass
class RoutingModel:
    """Everything one routing decision needs, built together and swapped as a whole."""

    model_id: str
    charters: CharterIndex
    memory: TicketMemory
    classifier: TeamClassifier | None = None
    second_model_id: str | None = None  # the second model the classifier was trained with

    @property
    def needs_second_vector(self) -> bool:
        return self.classifier is not None and self.classifier.uses_second

    @property
    def stage(self) -> Stage:
        if self.classifier is not None:
            return "classifier"
        if len(self.memory):
            return "vote"
        return "charters" if len(self.charters) else "none"

    def probabilities(
        self,
        text: str,
        vector: Vectors,
        config: RoutingConfig,
        second_vector: Vectors | None = None,
    ) -> dict[str, float]:
        """Team probabilities from the most informed stage available."""
        if self.classifier is not None:
            second = second_vector.reshape(1, -1) if second_vector is not None else None
            row = self.classifier.predict_proba([text], vector.reshape(1, -1), second=second)[0]
            return dict(zip(self.classifier.teams, row.tolist(), strict=True))
        if len(self.memory):
            return neighbour_vote(
                self.memory.nearest(vector, config.neighbours),
                self.charters.team_scores(vector),
                temperature=config.vote_temperature,
                charter_weight=config.charter_weight,
            )
        return charter_probabilities(self.charters, vector, temperature=config.charter_temperature)

    def route(
        self,
        text: str,
        vector: Vectors,
        config: RoutingConfig,
        second_vector: Vectors | None = None,
    ) -> RoutingDecision:
        """Top teams with confidence and evidence; abstains below `config.min_confidence`.

        `vector` is the ticket embedded as a document (`features.embed_tickets`), the way
        resolved tickets and charter lines were embedded; `second_vector` the same by the
        second model, needed when `needs_second_vector`.
        """
        decision = decide(
            self.probabilities(text, vector, config, second_vector),
            stage=self.stage,
            min_confidence=config.min_confidence,
        )
        return replace(
            decision,
            similar_tickets=self.memory.nearest(vector, config.evidence_tickets),
            charter_lines=self.charters.matching_lines(
                vector,
                teams=[t.team for t in decision.teams],
                per_team=config.evidence_lines_per_team,
            ),
        )
