"""Ranking, confidence and abstention of a routing decision."""

from __future__ import annotations

from routing.decision import DISPATCHER, decide


def test_top_three_teams_best_first() -> None:
    decision = decide(
        {"a": 0.1, "b": 0.6, "c": 0.2, "d": 0.1}, stage="classifier", min_confidence=0.5
    )
    assert [t.team for t in decision.teams] == ["b", "c", "a"]
    assert decision.team == "b"
    assert decision.confidence == 0.6
    assert not decision.abstained
    assert "60% for b" in decision.reason


def test_abstains_below_the_threshold_but_still_lists_candidates() -> None:
    decision = decide({"a": 0.45, "b": 0.35, "c": 0.2}, stage="vote", min_confidence=0.5)
    assert decision.abstained
    assert decision.team is None
    assert decision.confidence == 0.45
    assert [t.team for t in decision.teams] == ["a", "b", "c"]
    assert decision.reason.startswith(DISPATCHER)
    assert "below the threshold of 50%" in decision.reason


def test_confidence_exactly_at_the_threshold_routes() -> None:
    assert decide({"a": 0.5, "b": 0.5}, stage="vote", min_confidence=0.5).team == "a"


def test_nothing_to_route_by_abstains() -> None:
    decision = decide({}, stage="none", min_confidence=0.0)
    assert decision.abstained
    assert decision.teams == []
