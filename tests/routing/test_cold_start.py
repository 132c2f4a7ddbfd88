"""Routing with no tickets at all: similarity to the lines of the team charters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from routing.cold_start import CharterIndex, charter_probabilities
from routing.config import RoutingConfig
from routing.evaluation import charters_from_folder
from routing.features import TicketText, embed_tickets
from routing.memory import TicketMemory
from routing.staged import RoutingModel
from tests.fakes import HashingEmbedder
from tests.routing.helpers import write_charters


def _index(tmp_path: Path, embedder: HashingEmbedder) -> CharterIndex:
    return charters_from_folder(write_charters(tmp_path / "articles"), embedder)


def test_charter_lines_come_from_mission_skills_and_escalation_only(tmp_path: Path) -> None:
    index = _index(tmp_path, HashingEmbedder(dim=512))
    network = next(c for c in index.charters if c.team == "network")
    headings = {heading for heading, _ in network.lines}
    assert headings == {"Tags", "Charter", "Skills", "Escalation criteria"}
    texts = [text for _, text in network.lines]
    assert not any("printer toner never" in text for text in texts)  # service hours
    assert "Escalate to Network when:" not in texts  # introduces a list, names no topic
    assert len(index.vectors) == len(index.owners)


def test_zero_tickets_route_by_charter_with_matching_lines_as_evidence(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=512)
    model = RoutingModel(embedder.model_id, _index(tmp_path, embedder), TicketMemory())
    text = TicketText("Printer queue stuck", "The print spooler hangs, nothing prints.")
    vector = embed_tickets(embedder, [text])[0]
    decision = model.route(text.lexical, vector, RoutingConfig(min_confidence=0.0))
    assert model.stage == "charters"
    assert decision.stage == "charters"
    assert decision.team == "workplace"
    assert len(decision.teams) == 3
    assert sum(t.confidence for t in decision.teams) <= 1.0 + 1e-6
    best_line = decision.charter_lines[0]
    assert best_line.team == "workplace"
    assert "Printer queues" in best_line.text
    assert best_line.slug == "team-workplace"
    assert decision.similar_tickets == []


def test_charter_probabilities_sum_to_one_and_sharpen_with_lower_temperature(
    tmp_path: Path,
) -> None:
    embedder = HashingEmbedder(dim=512)
    index = _index(tmp_path, embedder)
    vector = embed_tickets(embedder, [TicketText("VPN tunnel drops", "VPN client disconnects")])[0]
    soft = charter_probabilities(index, vector, temperature=1.0)
    sharp = charter_probabilities(index, vector, temperature=0.01)
    assert np.isclose(sum(soft.values()), 1.0)
    assert max(soft, key=lambda t: soft[t]) == "network"
    assert sharp["network"] > soft["network"]


def test_no_charters_and_no_tickets_abstains(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=512)
    model = RoutingModel(embedder.model_id, CharterIndex(), TicketMemory())
    vector = embed_tickets(embedder, [TicketText("x", "y")])[0]
    decision = model.route("x", vector, RoutingConfig())
    assert decision.abstained
    assert decision.stage == "none"
