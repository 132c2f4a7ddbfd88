"""The escalation decision and the contractor's team filter, as plain functions."""

from __future__ import annotations

from routing.decision import DISPATCHER, RoutingDecision, TeamConfidence, decide
from routing.escalation import HowTo, decide_escalation, restrict_to_teams

THRESHOLD = 0.89


def _routed(probabilities: dict[str, float], min_confidence: float = 0.5) -> RoutingDecision:
    return decide(probabilities, stage="classifier", min_confidence=min_confidence)


def _how_to(team: str | None = "messaging", similarity: float = 0.93) -> HowTo:
    return HowTo(
        slug="outlook-start", title="Outlook startet nicht", team=team, similarity=similarity
    )


def test_a_close_how_to_resolves_at_first_level() -> None:
    result = decide_escalation(
        _routed({"messaging": 0.8, "network": 0.2}), _how_to(), min_similarity=THRESHOLD
    )
    assert result.action == "resolve_at_first_level"
    assert result.team is None
    assert result.how_to == _how_to()
    assert '"Outlook startet nicht"' in result.reason and "0.93" in result.reason


def test_a_how_to_below_the_threshold_is_no_proven_fix() -> None:
    result = decide_escalation(
        _routed({"messaging": 0.8, "network": 0.2}),
        _how_to(similarity=THRESHOLD - 0.001),
        min_similarity=THRESHOLD,
    )
    assert result.action == "escalate"
    assert result.team == "messaging"
    assert result.how_to is None
    assert result.reason.startswith("Escalate to messaging: 80% for messaging")


def test_a_how_to_reserved_for_second_level_never_resolves_at_first_level() -> None:
    reserved = HowTo(slug="x", title="X", team="messaging", similarity=0.99, first_level=False)
    result = decide_escalation(
        _routed({"messaging": 0.8, "network": 0.2}), reserved, min_similarity=THRESHOLD
    )
    assert result.action == "escalate"


def test_a_confident_router_pointing_elsewhere_overrules_the_wording() -> None:
    result = decide_escalation(
        _routed({"network": 0.9, "messaging": 0.1}), _how_to(), min_similarity=THRESHOLD
    )
    assert result.action == "escalate"
    assert result.team == "network"


def test_a_how_to_of_no_team_or_an_abstaining_router_keeps_the_fix() -> None:
    unsure = _routed({"network": 0.4, "messaging": 0.35, "sap": 0.25})
    assert decide_escalation(unsure, _how_to(), min_similarity=THRESHOLD).action == (
        "resolve_at_first_level"
    )
    sure = _routed({"network": 0.9, "messaging": 0.1})
    assert decide_escalation(sure, _how_to(team=None), min_similarity=THRESHOLD).action == (
        "resolve_at_first_level"
    )


def test_without_a_fix_an_abstaining_router_leaves_it_to_the_dispatcher() -> None:
    unsure = _routed({"network": 0.4, "messaging": 0.35, "sap": 0.25})
    result = decide_escalation(unsure, None, min_similarity=THRESHOLD)
    assert result.action == "dispatcher"
    assert result.team is None
    assert result.reason == unsure.reason
    assert result.reason.startswith(DISPATCHER)


def test_the_contractors_filter_drops_hidden_teams_from_the_candidates() -> None:
    decision = _routed({"network": 0.7, "sap": 0.2, "messaging": 0.1})
    seen = restrict_to_teams(decision, {"network", "messaging"})
    assert seen.team == "network"
    assert seen.teams == [TeamConfidence("network", 0.7), TeamConfidence("messaging", 0.1)]
    assert seen.reason == decision.reason
    assert not seen.abstained


def test_a_hidden_chosen_team_goes_to_the_dispatcher_without_being_named() -> None:
    decision = _routed({"sap": 0.7, "network": 0.2, "messaging": 0.1})
    seen = restrict_to_teams(decision, {"network"})
    assert seen.team is None
    assert seen.abstained
    assert [t.team for t in seen.teams] == ["network"]
    assert "sap" not in seen.reason
    assert seen.reason == f"{DISPATCHER}: the ticket belongs to a team outside your catalogue."


def test_escalation_for_a_contractor_never_names_a_hidden_team() -> None:
    decision = _routed({"sap": 0.7, "network": 0.2, "messaging": 0.1})
    result = decide_escalation(decision, None, min_similarity=THRESHOLD, visible_teams={"network"})
    assert result.action == "dispatcher"
    assert result.team is None
    assert result.routing.team is None
    assert all(t.team != "sap" for t in result.routing.teams)
    staff = decide_escalation(decision, None, min_similarity=THRESHOLD)
    assert (staff.action, staff.team) == ("escalate", "sap")


def test_the_wording_is_overruled_by_the_team_even_when_a_contractor_cannot_see_it() -> None:
    # The router is sure the ticket is SAP's: the messaging how-to is a coincidence for
    # staff and contractor alike; the contractor then gets the dispatcher, not the how-to.
    decision = _routed({"sap": 0.9, "messaging": 0.1})
    result = decide_escalation(
        decision, _how_to(), min_similarity=THRESHOLD, visible_teams={"messaging"}
    )
    assert result.action == "dispatcher"
    assert result.how_to is None
